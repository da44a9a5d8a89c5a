"""Bad recordings get a clear message and never crash; labels pass the live sanitiser."""

from __future__ import annotations

import asyncio
import gzip
import json

import pytest

from aitop.cli import main
from aitop.recording.reader import RecordingError, read_recording
from aitop.sanitize import MAX_LENGTH
from aitop.recording.replay import ReplayCollector
from aitop.recording.writer import Recorder

T0 = 1_790_000_000.0


def _scrape(requests: float, model: str = "m") -> dict:
    return {
        ("llm_requests_total", (("model", model),)): requests,
        ("llm_request_duration_seconds_bucket", (("le", "1.0"), ("model", model))): requests,
        ("llm_request_duration_seconds_bucket", (("le", "+Inf"), ("model", model))): requests,
        ("llm_request_duration_seconds_count", (("model", model),)): requests,
    }


def _write(path, scrapes=5, model="m"):
    recorder = Recorder(path)
    for i in range(scrapes):
        recorder.scrape("10.0.0.1:8000", T0 + i, _scrape(10.0 * i, model))
    recorder.close()
    return path


def _rows(path, window=2.0):
    collector = ReplayCollector(read_recording(path), window=window)
    return asyncio.run(collector.collect())


def test_a_recording_round_trips_rates(tmp_path):
    collected = _rows(_write(tmp_path / "ok.om"))
    (row,) = collected.rows
    assert row.values["request_rate"] == pytest.approx(10.0)
    assert collected.window_seconds == 2.0 and collected.taken_at == T0 + 4


def test_truncated_plain_text_is_read_up_to_the_cut(tmp_path):
    path = _write(tmp_path / "cut.om")
    body = path.read_bytes()
    path.write_bytes(body[: body.rindex(b"llm_requests_total") + 25])  # mid-line in the last scrape
    recording = read_recording(path)
    assert recording.scrapes == 5 and not recording.complete
    assert recording.notes[0].startswith("the recording was cut off (no '# EOF': its recorder did not finish)")
    assert f"`aitop record --repair {path}` makes it loadable by promtool" in recording.notes[0]


def test_truncated_gzip_is_read_up_to_the_cut(tmp_path):
    path = tmp_path / "cut.om.gz"
    path.write_bytes(gzip.compress(_write(tmp_path / "src.om").read_bytes())[:-40])
    recording = read_recording(path)
    assert recording.gzipped and recording.scrapes >= 1
    assert recording.notes[0].startswith("the gzip stream is cut off")


def test_corrupt_gzip_says_where(tmp_path):
    path = tmp_path / "bad.om.gz"
    data = bytearray(gzip.compress(_write(tmp_path / "src.om", scrapes=40).read_bytes()))
    data[len(data) // 2: len(data) // 2 + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))
    with pytest.raises(RecordingError, match=r"no samples could be read from .*: the gzip data is corrupt near byte"):
        read_recording(path)


def test_huge_recording_is_capped_and_said_so(tmp_path):
    recording = read_recording(_write(tmp_path / "big.om", scrapes=50), max_samples=40)
    assert recording.samples == 40
    assert recording.notes[0].startswith("recording too large: read the first 40 samples (up to ")


def test_out_of_order_samples_are_replayed_in_time_order(tmp_path):
    path = _write(tmp_path / "ooo.om")
    lines = path.read_text().splitlines()
    blocks, block = [], []
    for line in lines[:-1]:
        if line.startswith("# TYPE up ") and block:
            blocks.append(block)
            block = []
        block.append(line)
    blocks.append(block)
    path.write_text("\n".join(line for block in reversed(blocks) for line in block) + "\n# EOF\n")
    recording = read_recording(path)
    assert any(note.endswith("samples were out of time order (replayed in time order)") for note in recording.notes)
    (row,) = _rows(path).rows
    assert row.values["request_rate"] == pytest.approx(10.0)


@pytest.mark.parametrize("content, message", [
    (b"", "no samples with timestamps in"),
    (b"\x00\xff garbage\n" * 100, "not an OpenMetrics recording (100 unreadable lines, first at line 1)"),
    (b"llm_requests_total{model=\"m\"} 1\n# EOF\n", "not an OpenMetrics recording (1 unreadable lines"),
])
def test_unusable_files_say_why(tmp_path, capsys, content, message):
    path = tmp_path / "x.om"
    path.write_bytes(content)
    with pytest.raises(RecordingError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_recording(path)
    assert main(["snapshot", str(path)]) == 2
    assert message in capsys.readouterr().err


def test_a_directory_or_unreadable_file_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(RecordingError, match="is a directory, not a recording"):
        read_recording(tmp_path)
    assert main(["snapshot", str(_write(tmp_path / "ok.om")), "--at", "1999-01-01T00:00:00Z"]) == 2
    assert "is outside the recording (" in capsys.readouterr().err
    assert main(["snapshot", str(tmp_path / "ok.om"), "--at", "yesterday"]) == 2
    assert "expected RFC 3339" in capsys.readouterr().err


def test_hostile_labels_pass_the_sanitiser_and_long_lines_are_skipped(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("AITOP_CONFIG_DIR", str(tmp_path))
    hostile = "evil\x1b]52;c;AAAA\x07\u202e[/]" + "x" * 3000
    path = _write(tmp_path / "hostile.om", model=hostile)
    text = path.read_text()
    path.write_text(text.replace("# EOF\n", "") + "llm_x{a=\"" + "y" * 100_000 + "\"} 1 1\n# EOF\n")
    recording = read_recording(path)
    assert any(note.startswith("1 unreadable lines skipped (first at line") for note in recording.notes)
    assert main(["snapshot", str(path), "--format", "json", "--window", "2s"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["rows"]
    assert "\x1b" not in row["group"] and "\u202e" not in row["group"] and "\x07" not in row["group"]
    assert row["group"].startswith("evil^[]52;c;AAAA^G<U+202E>[/]")
    assert len(row["group"]) <= MAX_LENGTH
    assert row["request_rate"] == pytest.approx(10.0)


def test_a_full_disk_stops_the_recording_not_the_scrapes(tmp_path):
    if not __import__("os").path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    recorder = Recorder("/dev/full")
    recorder.scrape("h:1", T0, _scrape(1.0))  # raises nothing: the scrape path goes on
    recorder.scrape("h:1", T0 + 1, _scrape(2.0))
    assert recorder.error == "recording to /dev/full stopped: No space left on device"
    assert recorder.scrapes == 0
    recorder.close()
