"""`aitop record`: scrape targets on an interval and write every scrape a schema uses to a recording; and
`aitop record --repair FILE`. Also which command-line targets are recordings rather than URLs."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import time
from dataclasses import replace
from collections.abc import Callable, Sequence

from aitop.config import Config, ConfigError
from aitop.monitor import Monitor
from aitop.recording.reader import RecordingError, rfc3339
from aitop.recording.writer import Recorder
from aitop.sources.base import Collector, ScrapeSink


def recording_paths(targets: Sequence[str]) -> list[str]:
    """The targets that are files on disk: recordings. Mixing them with URLs, or giving several, is refused."""
    files = [target for target in targets if os.path.isfile(target)]
    if files and (len(files) > 1 or len(targets) > 1):
        raise ConfigError("give one recording file as the target, without URLs or other recordings")
    return files


def record_parser(add_common: Callable[[argparse.ArgumentParser], None], duration) -> argparse.ArgumentParser:
    """The `aitop record` arguments (`add_common`: the targets, kind and auth options every command takes)."""
    parser = argparse.ArgumentParser(
        prog="aitop record",
        description="Scrape TARGETs every --interval (or read a Prometheus server's history) and write what the "
        "schemas use to FILE as OpenMetrics text with timestamps (.gz compresses), loadable by "
        "`promtool tsdb create-blocks-from openmetrics` and "
        "VictoriaMetrics' /api/v1/import/prometheus, and replayable: aitop FILE, aitop snapshot FILE.",
    )
    add_common(parser)
    parser.add_argument("--output", "-o", metavar="FILE", help="the recording to write (overwritten)")
    parser.add_argument(
        "--duration", type=duration,
        help="stop after this long (default: until Ctrl-C); from a Prometheus server: how much history (default 15m)",
    )
    parser.add_argument(
        "--at", metavar="TIME",
        help="from a Prometheus server: the end of the history recorded (RFC 3339, unix seconds, or -2h; default now)",
    )
    parser.add_argument("--interval", type=duration, help="time between scrapes (default 2s)")
    parser.add_argument(
        "--repair", metavar="FILE",
        help="rewrite a recording a crash cut off as a complete one (the original is kept as FILE.broken)",
    )
    return parser


async def record(config: Config, output: str, duration: float | None) -> int:
    """Scrape `config.targets` every `config.interval` into `output` until `duration` or SIGINT/SIGTERM."""
    from aitop.collectors import open_collector

    collector = await open_collector(replace(config, at=None))  # `--at` is the end of a server's history
    if collector.base_url is not None:  # a server: its history, not live scrapes
        from aitop.recording.from_prometheus import record_from_server

        await collector.aclose()
        return await record_from_server(config, collector.base_url, output, duration)
    if config.at is not None:
        await collector.aclose()
        raise ConfigError("record --at reads a Prometheus server's history; /metrics pages have no past")
    recorder = Recorder(output)
    collector.recorder = recorder
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    started = time.monotonic()
    try:
        while not stop.is_set():
            began = time.monotonic()
            await collector.collect()
            if recorder.error is not None:
                break
            if duration is not None and time.monotonic() - started >= duration:
                break
            pause = config.interval - (time.monotonic() - began)
            if duration is not None:
                pause = min(pause, duration - (time.monotonic() - started))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(pause, 0.0))
    finally:
        recorder.close()
        await collector.aclose()
    print(
        f"aitop: recorded {recorder.scrapes:,} scrapes of {len(collector.targets)} target(s), {recorder.samples:,} "
        f"samples, to {output} (until {rfc3339(time.time())})", file=sys.stderr,
    )
    if recorder.error is not None:
        print(f"aitop: {recorder.error}", file=sys.stderr)
        return 1
    if recorder.skipped:
        print(f"aitop: warning: {recorder.skipped:,} series with names OpenMetrics cannot carry unquoted were "
              "left out", file=sys.stderr)
    return 0


def run_record(args: argparse.Namespace, make_config: Callable[[argparse.Namespace], Config]) -> int:
    """`aitop record …` after argument parsing; returns the exit code."""
    if args.repair:
        from aitop.recording.repair import repair

        try:
            print(f"aitop: {repair(args.repair)}", file=sys.stderr)
        except (RecordingError, OSError) as exc:
            print(f"aitop: cannot repair: {exc}", file=sys.stderr)
            return 1
        return 0
    if not args.output:
        raise ConfigError("record needs --output FILE (FILE.gz to compress)")
    config = make_config(args)
    if not config.targets or config.recording:
        raise ConfigError("record needs /metrics URLs to scrape, or one Prometheus server")
    return asyncio.run(record(config, args.output, args.duration))


async def attach_recorder(collector: Collector, recorder: ScrapeSink | None, *, optional: bool = False) -> Collector:
    """`collector` with `recorder` receiving its scrapes. A collector that does not scrape (a server, a
    recording) is refused, or with `optional` (the incident buffer alone) goes without."""
    if recorder is None:
        return collector
    if not collector.can_record:
        if optional:
            return collector
        await collector.aclose()
        raise ConfigError("--record records /metrics targets (scrape mode), not a server or a recording")
    collector.recorder = recorder
    return collector


def tui_monitor(config: Config, record: str | None, open_for_tui, state_dir) -> tuple[Monitor, Callable[[], None]]:
    """The TUI's monitor, recording to `record` (`--record`) and keeping the incident buffer (written under
    `state_dir()`) as configured; and what to call when the TUI ends."""
    from aitop.recording.incident import IncidentBuffer, IncidentMonitor, Tee

    recorder = Recorder(record) if record is not None else None
    # Scrape mode only: a recording already is one, and a server keeps its own history.
    buffer = IncidentBuffer(config.incident_keep) if config.incidents and config.recording is None else None
    sinks = [sink for sink in (recorder, buffer) if sink is not None]
    try:
        collector = open_for_tui(config, Tee(*sinks) if sinks else None, optional=recorder is None)
    except BaseException:
        if recorder is not None:
            recorder.close()
        raise
    if buffer is not None and collector.recorder is not None:
        monitor: Monitor = IncidentMonitor(collector, buffer=buffer, directory=state_dir(),
                                           analysis=config.analysis, warmup=True)
    elif collector.kind == "replay":  # charts and baselines read the recording's clock, not the wall's
        monitor = Monitor(collector, analysis=config.analysis, clock=lambda: collector.position, warmup=True)
    else:
        monitor = Monitor(collector, analysis=config.analysis, warmup=True)

    def finish() -> None:
        if recorder is not None:
            recorder.close()
            print(f"aitop: recorded {recorder.scrapes:,} scrapes to {record}", file=sys.stderr)
            if recorder.error is not None:
                print(f"aitop: {recorder.error}", file=sys.stderr)

    return monitor, finish
