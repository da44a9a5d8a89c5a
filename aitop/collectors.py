"""From a validated config to the collector that serves it."""

from __future__ import annotations

import asyncio

from aitop.config import Config, ConfigError
from aitop.sources.base import DetectingCollector
from aitop.sources.detect import detect
from aitop.sources.scrape.collector import ScrapeCollector


async def open_collector(config: Config) -> DetectingCollector:
    """Detect each target's kind and build one collector: a Prometheus server, or /metrics pages (or a
    recording's replay)."""
    if config.recording is not None:
        from aitop.recording.replay import open_replay

        return await asyncio.to_thread(open_replay, config)
    found = await asyncio.gather(
        *(detect(target, kind=config.kind, http=config.http, timeout=config.timeout) for target in config.targets)
    )
    servers = [item for item in found if item.kind == "prometheus"]
    if servers:
        if len(found) > 1:
            raise ConfigError(
                "give one Prometheus server, or any number of /metrics URLs, not both kinds or several servers"
            )
        from aitop.sources.prometheus.collector import PrometheusCollector

        return PrometheusCollector(
            servers[0].url, window=config.window, timeout=config.timeout, http=config.http, backend=servers[0].backend,
            schemas=config.schemas, at=_at(config),
        )
    if config.at is not None:
        raise ConfigError("--at needs a recording or a Prometheus server: /metrics pages have no past")
    return ScrapeCollector(
        [item.url for item in found], window=config.window, timeout=config.timeout, http=config.http,
        schemas=config.schemas,
    )


def _at(config: Config) -> float | None:
    """`--at` as unix time: RFC 3339, unix seconds, or -DURATION before now (aitop's clock: the server's
    offset is learned only once it is queried)."""
    if config.at is None:
        return None
    import time

    from aitop.recording.replay import parse_at

    return parse_at(config.at, now=time.time())
