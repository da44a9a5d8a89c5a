"""A crash mid-recording (SIGKILL of a real `aitop record` process) leaves a file aitop reads, says was cut
off, and repairs with `aitop record --repair FILE`."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from aitop.cli import main
from aitop.demo import DemoFleet
from aitop.recording.reader import read_recording


def _wait_for_scrapes(path, count: int, deadline: float) -> None:
    while time.monotonic() < deadline:
        if path.exists():
            try:
                if read_recording(path).scrapes >= count:
                    return
            except ValueError:
                pass
        time.sleep(0.2)
    raise AssertionError(f"{path} did not get {count} scrapes in time")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", ["crash.om", "crash.om.gz"])
def test_kill_9_mid_recording_leaves_a_readable_repairable_file(tmp_path, monkeypatch, capsys, name):
    monkeypatch.setenv("AITOP_CONFIG_DIR", str(tmp_path))
    fleet = DemoFleet()
    url = fleet.start()
    path = tmp_path / name
    env = dict(os.environ, AITOP_CONFIG_DIR=str(tmp_path))
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "aitop", "record", url, "--output", str(path), "--interval", "0.5s"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
        )
        try:
            _wait_for_scrapes(path, 4, time.monotonic() + 40)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
    finally:
        fleet.stop()
    raw = path.read_bytes()
    if name.endswith(".gz"):
        with pytest.raises(EOFError):
            gzip.decompress(raw)  # cut off: the standard library refuses it
    else:
        assert not raw.rstrip().endswith(b"# EOF")

    recording = read_recording(path)
    assert recording.scrapes >= 4 and not recording.complete
    assert any("the recording was cut off (no '# EOF'" in note for note in recording.notes)

    assert main(["snapshot", str(path), "--window", "1s", "--format", "json"]) == 0
    out = capsys.readouterr()
    document = json.loads(out.out)
    assert len(document["rows"]) == 6
    assert "aitop: warning: the recording was cut off (no '# EOF': its recorder did not finish); read up to" in out.err

    assert main(["record", "--repair", str(path)]) == 0
    message = capsys.readouterr().err
    assert message.startswith(f"aitop: repaired {path}: ") and "the original is kept as" in message
    repaired = read_recording(path)
    assert repaired.complete and repaired.scrapes == recording.scrapes
    body = gzip.decompress(path.read_bytes()) if name.endswith(".gz") else path.read_bytes()
    assert body.endswith(b"# EOF\n")
    assert (tmp_path / (name + ".broken")).read_bytes() == raw
    assert main(["record", "--repair", str(path)]) == 0
    assert "nothing to repair" in capsys.readouterr().err
