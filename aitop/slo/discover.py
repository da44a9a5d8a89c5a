"""SLOs a Prometheus server already evaluates: Sloth's and Pyrra's recording rules, found through
`/api/v1/rules` and read like aitop's own (same windows, same page/ticket pairs, same verdicts).

Sloth records the error ratio per window as `slo:sli_error:ratio_rate<window>` (labels `sloth_service`,
`sloth_slo`), the objective as `slo:objective:ratio` and the budget left as
`slo:period_error_budget_remaining:ratio`. Pyrra records the error ratio as `<metric>:burnrate<window>`
(label `slo`) and the objective as `pyrra_objective`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import httpx

from aitop.analysis.settings import parse_duration
from aitop.sanitize import clean
from aitop.slo.burn import SloStatus, status
from aitop.slo.spec import SLO, WINDOWS

SLOTH_RATIO = re.compile(r"slo:sli_error:ratio_rate(\w+)")
PYRRA_RATIO = re.compile(r"(.+):burnrate(\w+)")
_SLOTH_KEY = ("sloth_service", "sloth_slo")


def recorded_names(body: object) -> set[str]:
    """The names of every recording rule in a `/api/v1/rules` answer."""
    names: set[str] = set()
    groups = body.get("data", {}).get("groups", []) if isinstance(body, dict) else []
    for group in groups or []:
        for rule in group.get("rules") or []:
            if rule.get("type") == "recording" and isinstance(rule.get("name"), str):
                names.add(rule["name"])
    return names


def _window(text: str) -> float | None:
    try:
        return parse_duration(text)
    except ValueError:
        return None


async def _query(client: httpx.AsyncClient, base_url: str, expr: str) -> list[dict]:
    response = await client.get(base_url + "/api/v1/query", params={"query": expr})
    response.raise_for_status()
    body = response.json()
    return body.get("data", {}).get("result", []) if body.get("status") == "success" else []


def _value(series: Mapping) -> float | None:
    try:
        return float(series["value"][1])
    except (KeyError, IndexError, TypeError, ValueError):
        return None


async def discover(client: httpx.AsyncClient, base_url: str) -> list[SloStatus]:
    """Every Sloth and Pyrra SLO the server records, judged; [] when it has none (or no rules API)."""
    response = await client.get(base_url + "/api/v1/rules", params={"type": "record"})
    if response.status_code != 200:
        return []
    names = recorded_names(response.json())
    return [*await _sloth(client, base_url, names), *await _pyrra(client, base_url, names)]


async def _sloth(client, base_url: str, names: Iterable[str]) -> list[SloStatus]:
    windows = {w: name for name in names if (m := SLOTH_RATIO.fullmatch(name)) and (w := _window(m.group(1)))}
    if not windows:
        return []
    ratios: dict[tuple[str, ...], dict[float, float | None]] = {}
    for window, name in windows.items():
        for series in await _query(client, base_url, name):
            key = tuple(clean(series["metric"].get(label, ""), 80) for label in _SLOTH_KEY)
            ratios.setdefault(key, {})[window] = _value(series)
    objectives = {tuple(clean(s["metric"].get(label, ""), 80) for label in _SLOTH_KEY): _value(s)
                  for s in await _query(client, base_url, "slo:objective:ratio")}
    remaining = {tuple(clean(s["metric"].get(label, ""), 80) for label in _SLOTH_KEY): _value(s)
                 for s in await _query(client, base_url, "slo:period_error_budget_remaining:ratio")}
    out = []
    for (service, name), by_window in sorted(ratios.items()):
        objective = objectives.get((service, name))
        if objective is None or not 0 < objective < 1:
            continue  # no objective: no budget to burn
        slo = SLO(name=name or "slo", objective=objective)
        st = status(slo, "sloth", service, {w: by_window.get(w) for w in WINDOWS}, None, source="sloth")
        left = remaining.get((service, name))
        out.append(_with_remaining(st, left))
    return out


async def _pyrra(client, base_url: str, names: Iterable[str]) -> list[SloStatus]:
    windows: dict[float, list[str]] = {}
    for name in names:
        if (m := PYRRA_RATIO.fullmatch(name)) and not name.startswith("slo:") and (w := _window(m.group(2))):
            windows.setdefault(w, []).append(name)
    if not windows:
        return []
    ratios: dict[str, dict[float, float | None]] = {}
    for window, recorded in windows.items():
        for name in recorded:
            for series in await _query(client, base_url, name):
                slo_name = clean(series["metric"].get("slo", ""), 80)
                if slo_name:
                    ratios.setdefault(slo_name, {})[window] = _value(series)
    objectives = {clean(s["metric"].get("slo", ""), 80): _value(s)
                  for s in await _query(client, base_url, "pyrra_objective")}
    out = []
    for name, by_window in sorted(ratios.items()):
        objective = objectives.get(name)
        if objective is None or not 0 < objective < 1:
            continue
        out.append(status(SLO(name=name, objective=objective), "pyrra", name,
                          {w: by_window.get(w) for w in WINDOWS}, None, source="pyrra"))
    return out


def _with_remaining(st: SloStatus, remaining: float | None) -> SloStatus:
    if remaining is None:
        return st
    hourly = st.burns.get(3600.0)
    exhaustion = max(0.0, remaining) * st.slo.period / hourly if hourly else None
    from dataclasses import replace

    return replace(st, budget_remaining=remaining, exhaustion_seconds=exhaustion)
