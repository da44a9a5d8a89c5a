"""From a validated config to the collector that serves it."""

from __future__ import annotations

import asyncio

from aitop.config import Config, ConfigError
from aitop.sources.base import Collector
from aitop.sources.detect import detect
from aitop.sources.scrape import ScrapeCollector


async def open_collector(config: Config) -> Collector:
    """Detect each target's kind and build one collector: a Prometheus server, or /metrics pages (or a
    recording's replay)."""
    if config.recording is not None:
        from aitop.recording.replay import open_replay

        return await asyncio.to_thread(open_replay, config)
    if config.at is not None:
        raise ConfigError("--at works on recordings for now (aitop snapshot FILE --at TIME), not on live targets")
    found = await asyncio.gather(
        *(detect(target, kind=config.kind, http=config.http, timeout=config.timeout) for target in config.targets)
    )
    servers = [item for item in found if item.kind == "prometheus"]
    if servers:
        if len(found) > 1:
            raise ConfigError(
                "give one Prometheus server, or any number of /metrics URLs, not both kinds or several servers"
            )
        from aitop.sources.prometheus import PrometheusCollector

        return PrometheusCollector(
            servers[0].url, window=config.window, timeout=config.timeout, http=config.http, backend=servers[0].backend,
            schemas=config.schemas,
        )
    return ScrapeCollector(
        [item.url for item in found], window=config.window, timeout=config.timeout, http=config.http,
        schemas=config.schemas,
    )
