"""SLO statuses for a running monitor, whichever its source: the server's history in Prometheus mode, the
session's own recordings in scrape mode (where windows longer than the session are unknown)."""

from __future__ import annotations

import logging

from aitop.check import CheckResult
from aitop.sanitize import clean
from aitop.slo.burn import SloStatus
from aitop.slo.check import with_slos
from aitop.slo.measure import PromSloReader, session_statuses
from aitop.slo.spec import SLO

log = logging.getLogger(__name__)


async def slo_statuses(slos: tuple[SLO, ...], monitor, *, http=None, timeout: float = 10.0,
                       schemas=None, interval: float = 2.0) -> list[SloStatus]:
    """Every configured SLO on every row it covers; raises when the server cannot be asked."""
    base_url = monitor.collector.base_url
    if monitor.kind == "prometheus" and base_url:
        reader = PromSloReader(base_url, http=http, timeout=timeout, schemas=schemas)
        return await reader.read(slos)
    return session_statuses(slos, monitor.recorded, monitor.clock(), interval) if slos else []


async def judge_slos(result: CheckResult, config, monitor) -> CheckResult:
    """`aitop check --slo`: `result` with every SLO's verdict added."""
    slos = config.ops.slos
    try:
        statuses = await slo_statuses(slos, monitor, http=config.http, timeout=config.timeout,
                                      schemas=config.schemas, interval=config.window)
    except Exception as exc:  # noqa: BLE001 — a plugin answers UNKNOWN, never a traceback
        log.debug("SLO query failed", exc_info=True)
        return with_slos(result, [], f"{type(exc).__name__}: {clean(str(exc), 200)}", len(slos))
    return with_slos(result, statuses, None, len(slos))
