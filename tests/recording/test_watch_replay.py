"""`aitop watch FILE --format jsonl`: a recording replayed scrape by scrape, one JSON line per scrape, with the
alert lifecycle judged at the recording's time (pending → firing → resolved where the recording says so)."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from aitop.cli import main
from aitop.recording.writer import Recorder

T0 = 1_790_000_000.0
SCRAPES = 40
BAD = range(10, 22)  # seconds in which every request fails


def _errors_by(second: int) -> float:
    """Cumulative failed requests at `second`: 10/s during BAD, none otherwise."""
    return 10.0 * sum(1 for s in BAD if s < second)


def _write(path):
    recorder = Recorder(path)
    ok = 0.0
    for second in range(SCRAPES):
        errors = _errors_by(second)
        recorder.scrape("10.0.0.1:8000", T0 + second, {
            ("llm_requests_total", (("model", "m"), ("status", "success"))): ok,
            ("llm_requests_total", (("model", "m"), ("status", "error"))): errors,
        })
        ok += 0.0 if second in BAD else 10.0
    recorder.close()


RULES = """
[[rules]]
name = "error_rate_critical"
for = "3s"
keep_firing_for = "3s"
"""


def _stamp(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@pytest.mark.timeout(60)
def test_watch_on_a_recording_prints_one_line_per_scrape_with_the_alert_lifecycle(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AITOP_CONFIG_DIR", str(tmp_path))
    path = tmp_path / "incident.om"
    _write(path)
    config = tmp_path / "rules.toml"
    config.write_text(RULES)
    assert main(["watch", str(path), "--format", "jsonl", "--window", "2s", "--config", str(config)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [_stamp(line["taken_at"]) for line in lines] == [T0 + s for s in range(SCRAPES)]
    assert all(line["source"]["kind"] == "replay" for line in lines)

    states: dict[float, str] = {}
    for line in lines:
        alert = next((a for a in line["alerts"] if a["rule"] == "error_rate_critical"), None)
        states[_stamp(line["taken_at"]) - T0] = alert["state"] if alert else "inactive"
    # The error rate over the 2 s window is 100 % from second 11 to 23 (a window that holds failures only).
    assert states[5] == "inactive"
    pending = min(s for s, state in states.items() if state == "pending")
    fired = min(s for s, state in states.items() if state == "firing")
    resolved = min(s for s, state in states.items() if state == "resolved")
    assert 10 < pending <= 12
    assert fired - pending == 3  # `for` counts recording seconds, not the (instant) replay's wall time
    last_bad = max(s for s in range(SCRAPES) if lines[s]["rows"] and (lines[s]["rows"][0]["error_rate"] or 0) > 0.05)
    assert resolved - last_bad == pytest.approx(3, abs=1)  # keep_firing_for, in recording time
    assert pending < fired < resolved


@pytest.mark.timeout(60)
def test_watch_on_a_recording_starts_at_at_and_stops_after_count(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AITOP_CONFIG_DIR", str(tmp_path))
    path = tmp_path / "incident.om"
    _write(path)
    assert main(["watch", str(path), "--window", "2s", "--at=-10s", "--count", "3"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [_stamp(line["taken_at"]) - T0 for line in lines] == [SCRAPES - 11, SCRAPES - 10, SCRAPES - 9]


@pytest.mark.timeout(60)
def test_watch_codec_lines_hold_everything_the_json_lines_say(tmp_path, monkeypatch, capsys):
    """`--format codec` over a recording: each line decodes to the snapshot whose JSON contract is the
    `--format jsonl` line of the same scrape, and keeps what the contract leaves out."""
    from aitop.codec import decode
    from aitop.output import to_json_line

    monkeypatch.setenv("AITOP_CONFIG_DIR", str(tmp_path))
    path = tmp_path / "incident.om"
    _write(path)
    config = tmp_path / "rules.toml"
    config.write_text(RULES)
    common = ["watch", str(path), "--window", "2s", "--config", str(config)]
    assert main([*common, "--format", "jsonl"]) == 0
    json_lines = capsys.readouterr().out.splitlines()
    assert main([*common, "--format", "codec"]) == 0
    codec_lines = capsys.readouterr().out.splitlines()
    assert len(codec_lines) == len(json_lines) == SCRAPES
    snapshots = [decode(json.loads(line)) for line in codec_lines]
    assert [to_json_line(snapshot) for snapshot in snapshots] == json_lines
    assert all(line.isascii() for line in codec_lines)
    assert any(row.provenance.get("error_rate") for snapshot in snapshots for row in snapshot.rows)
    assert {alert.state for snapshot in snapshots for alert in snapshot.alerts} >= {"pending", "firing", "resolved"}
