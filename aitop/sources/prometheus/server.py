"""What Prometheus mode learns about a server besides its metric names: how often the jobs holding AI-serving
metrics are scraped, and how far the server's clock is from aitop's.

Scrape interval. A `rate()` over a range holding fewer than two samples is empty, and one holding few is
noisy: like Grafana's `$__rate_interval`, every rate range is at least `RATE_SCRAPES` × the scrape interval
of the jobs that hold the schemas' series. The interval comes from `/api/v1/targets` (`scrapeInterval`),
else from `/api/v1/status/config`, else from the spacing of the samples themselves (Thanos, Mimir and
federated or remote-written series have no targets). One window serves a whole refresh: the longest the
jobs need, so every row of the table covers the same span.

Clock. Instant queries are evaluated at the server's "now" (learned with a `time()` query), so a jump host
whose clock runs ahead never asks for a window the server has not filled yet.

The rationale (why `—` at 15 s scrapes, why four intervals): docs/architecture.md, the rate window.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

#: Scrapes a rate range must span at least (Grafana's `$__rate_interval` uses 4).
RATE_SCRAPES = 4
#: A clock difference worth telling the user about.
SKEW_WARN_SECONDS = 5.0
TIME_QUERY = "time()"

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0, "y": 31536000.0}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)")


def parse_duration(text: object) -> float | None:
    """Seconds in a Prometheus duration (`15s`, `1m30s`, `500ms`), or None if it is not one."""
    if not isinstance(text, str) or not text:
        return None
    parts = _DURATION.findall(text.strip())
    if not parts or "".join(number + unit for number, unit in parts) != text.strip():
        return None
    seconds = sum(float(number) * _UNITS[unit] for number, unit in parts)
    return seconds if seconds > 0 else None


def intervals_from_targets(body: object) -> dict[str, float]:
    """{job: scrape interval} from an `/api/v1/targets` answer (longest when a job's targets differ)."""
    data = body.get("data") if isinstance(body, dict) else None
    targets = data.get("activeTargets") if isinstance(data, dict) else None
    intervals: dict[str, float] = {}
    for target in targets if isinstance(targets, list) else ():
        if not isinstance(target, dict):
            continue
        raw_labels, raw_discovered = target.get("labels"), target.get("discoveredLabels")
        labels = raw_labels if isinstance(raw_labels, dict) else {}
        discovered = raw_discovered if isinstance(raw_discovered, dict) else {}
        job = labels.get("job") or target.get("scrapePool") or discovered.get("job")
        seconds = parse_duration(target.get("scrapeInterval")) or parse_duration(discovered.get("__scrape_interval__"))
        if isinstance(job, str) and seconds:
            intervals[job] = max(seconds, intervals.get(job, 0.0))
    return intervals


def intervals_from_config(yaml_text: str) -> dict[str, float]:
    """{job: scrape interval} from the YAML of `/api/v1/status/config`.

    Prometheus writes its configuration back in one canonical layout (every job with its own
    `scrape_interval`), so reading `job_name:` and `scrape_interval:` lines is enough; a job without its
    own interval gets the global one. No YAML library is needed for that."""
    default: float | None = None
    intervals: dict[str, float | None] = {}
    job: str | None = None
    section = ""
    for line in yaml_text.splitlines():
        stripped = line.strip()
        if line and not line[0].isspace() and stripped.endswith(":"):
            section, job = stripped[:-1], None
            continue
        key, _, value = stripped.removeprefix("- ").partition(":")
        value = value.strip().strip("'\"")
        if section == "scrape_configs" and key == "job_name":
            job = value
            intervals.setdefault(job, None)
        elif key == "scrape_interval":
            if section == "global":
                default = parse_duration(value)
            elif section == "scrape_configs" and job is not None:
                intervals[job] = parse_duration(value)
    return {name: seconds for name, seconds in ((n, s or default) for n, s in intervals.items()) if seconds}


def _names(names: Iterable[str]) -> str:
    pattern = "|".join(re.escape(name) for name in sorted(set(names)))
    return '{__name__=~"' + pattern.replace("\\", "\\\\").replace('"', '\\"') + '"}'


def jobs_query(names: Sequence[str]) -> str:
    """The jobs holding any of `names` (one series per job)."""
    return f"group by (job) ({_names(names)})"


def spacing_query(names: Sequence[str]) -> str:
    """Seconds between samples per job, from how many one series holds over the last 10 minutes (a series
    younger than that reads as scraped less often: a wider window, the safe side)."""
    return f"max by (job) (600 / count_over_time({_names(names)}[10m]))"


def rate_window(asked: float, interval: float | None) -> float:
    """The rate range to use: the asked window, widened to `RATE_SCRAPES` scrape intervals when shorter."""
    if not interval:
        return asked
    return max(asked, RATE_SCRAPES * interval)


@dataclass(frozen=True, slots=True)
class ServerFacts:
    """What was learned about the server: its clock offset (server − aitop, seconds), and the scrape
    interval of the jobs holding AI-serving series (None: unknown) and where it came from."""

    offset: float = 0.0
    scrape_interval: float | None = None
    interval_source: str = ""  # "targets" | "config" | "sample spacing" | ""
    jobs: tuple[str, ...] = ()



def skew_warning(offset: float) -> str | None:
    """The warning when aitop's clock and the server's (offset = server − aitop) differ by more than
    `SKEW_WARN_SECONDS`."""
    if abs(offset) <= SKEW_WARN_SECONDS:
        return None
    side = "ahead of" if offset < 0 else "behind"
    return (f"clock skew: aitop's clock is {abs(offset):.0f}s {side} the server's; "
            "queries are evaluated at the server's time")


def longest_interval(intervals: Mapping[str, float], jobs: Iterable[str]) -> float | None:
    """The longest scrape interval among `jobs` (among all jobs when which ones is not known)."""
    jobs = tuple(jobs)
    known = [intervals[job] for job in jobs if job in intervals] if jobs else list(intervals.values())
    if not known:
        return None
    return max(known)
