"""`aitop snapshot` and `aitop check` as a user runs them: in a real ISO-8859-1 locale, under an ASCII
`PYTHONIOENCODING`, with stdout on a full disk or closed. Real processes, a real
exporter; the crash directory is watched, since an error that reaches the crash path writes a file there."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MODELS
from kit import aitop_env

#: UTF-8 would show these; an 8-bit terminal gets their stand-ins (never `\u2713` or an encoding error).
NOT_LATIN1 = ["—", "👎", "‼", "▲", "✓", "…"]


def run(args: list[str], env: dict[str, str], **kwargs) -> subprocess.CompletedProcess[bytes]:
    kwargs.setdefault("stdout", subprocess.PIPE)
    return subprocess.run([sys.executable, "-m", "aitop", *args], env=env, stderr=subprocess.PIPE, timeout=60,
                          **kwargs)


def crash_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "state").rglob("crash-*"))


@pytest.fixture(params=["locale", "PYTHONIOENCODING"])
def legacy_env(request, tmp_path) -> tuple[dict[str, str], str]:
    """An environment whose stdout encoding is ISO-8859-1 (a real locale) or ASCII (explicit encoding)."""
    if request.param == "locale":
        name = request.getfixturevalue("latin1_locale")
        return aitop_env(tmp_path, LANG=name, LC_ALL=name), "iso8859-1"
    return aitop_env(tmp_path, LANG="C.UTF-8", LC_ALL="C.UTF-8", PYTHONIOENCODING="ascii"), "ascii"


def test_snapshot_table_in_a_legacy_encoding_uses_ascii_stand_ins(exporter, legacy_env, tmp_path):
    env, encoding = legacy_env
    result = run(["snapshot", exporter, "--format", "table", "--window", "0.3"], env)
    assert result.returncode == 0, result.stderr
    text = result.stdout.decode(encoding)  # strict: every byte is valid in the terminal's encoding
    lines = text.splitlines()
    assert lines[0].split()[:2] == ["SCHEMA", "MODEL"] and "-1 %" in lines[0], lines[0]  # "👎 %", two cells
    assert "café-7b" in text if encoding == "iso8859-1" else "caf?-7b" in text
    assert "??-7b" in text  # 模型: one `?` per terminal cell, so the columns stay aligned
    # Same-width stand-ins keep the table aligned: the last column is right-aligned, so every line of the
    # table ends in the same column (a `\u…` escape or one `?` for a double-width character would not).
    assert len({len(line) for line in lines[: 1 + len(MODELS)]}) == 1, lines
    for symbol in NOT_LATIN1:
        assert symbol not in text
    assert "\\u" not in text and result.stderr == b"" and not crash_files(tmp_path)


def test_check_in_a_legacy_encoding_answers_a_real_status(exporter, legacy_env, tmp_path):
    env, encoding = legacy_env
    result = run(["check", exporter, "--window", "0.3"], env)
    text = result.stdout.decode(encoding)
    assert result.returncode == 2, text  # CRITICAL (10 % errors, 3 s latency), never UNKNOWN
    assert text.startswith("AITOP CRITICAL: ") and "internal error" not in text, text
    assert " - " in text.splitlines()[0]  # the summary's "—", as its stand-in
    assert "\\u" not in text and not crash_files(tmp_path)


def test_snapshot_json_in_ascii_keeps_every_value_readable(exporter, tmp_path):
    env = aitop_env(tmp_path, LANG="C.UTF-8", LC_ALL="C.UTF-8", PYTHONIOENCODING="ascii")
    result = run(["snapshot", exporter, "--format", "json", "--window", "0.3"], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.isascii() and b'"group": "caf?-7b"' in result.stdout and not crash_files(tmp_path)


@pytest.mark.parametrize("command", [["snapshot", "--format", "json"], ["snapshot", "--format", "table"],
                                     ["check"]], ids=["snapshot-json", "snapshot-table", "check"])
def test_stdout_on_a_full_disk_is_one_line_on_stderr_and_no_crash(exporter, tmp_path, command):
    with open("/dev/full", "w") as full:
        result = run([*command, exporter, "--window", "0.3"], aitop_env(tmp_path), stdout=full)
    assert result.returncode == 74, result.stderr
    assert result.stderr.decode() == "aitop: output not written (No space left on device)\n"
    assert not crash_files(tmp_path)


@pytest.mark.parametrize("command", [["snapshot"], ["check"], []], ids=["snapshot", "check", "tui"])
def test_closed_stdout_is_one_line_on_stderr_and_no_crash(exporter, tmp_path, command):
    closed = ["sh", "-c", 'exec "$@" >&-', "sh", sys.executable, "-m", "aitop", *command, exporter]
    result = subprocess.run(closed, env=aitop_env(tmp_path), stdin=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            timeout=60)
    assert result.returncode == 74, result.stderr
    assert result.stderr.decode() == (
        "aitop: stdout is closed: nothing can be written (give aitop a terminal, a pipe or a file)\n")
    assert not crash_files(tmp_path)


def test_tui_with_stdout_on_a_full_disk_refuses_in_one_line(exporter, tmp_path):
    with open("/dev/full", "w") as full:
        result = run([exporter], aitop_env(tmp_path), stdout=full, stdin=subprocess.DEVNULL)
    assert result.returncode == 2 and len(result.stderr.decode().splitlines()) == 1, result.stderr
    assert b"no TTY" in result.stderr and not crash_files(tmp_path)
