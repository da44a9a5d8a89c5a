"""The analysis sections of the config file — `[[rules]]`, `[thresholds]`, `[prices]`, `[baseline]`,
`[alerts]` — validated into `AnalysisSettings`. Errors name the key path (`rules[2].threshold`).

Rules start from the defaults; `[thresholds]` retunes or adds `<field>_<severity>` rules; then each
`[[rules]]` entry either overrides the rule of the same name (only the keys it gives) or adds a new one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from aitop.analysis.cost import PriceTable, parse_prices
from aitop.analysis.rules import LIMIT_KINDS, OPS, Rule, RowFilter
from aitop.analysis.settings import (
    AlertSettings,
    BaselineSettings,
    ConfigError,
    boolean,
    duration,
    integer,
    number,
    regex,
    string,
    table,
)
from aitop.defaults import builtin
from aitop.fields import FIELD_BY_NAME
from aitop.model import Severity

SECTIONS = frozenset({"rules", "thresholds", "prices", "baseline", "alerts"})
RULE_KEYS = frozenset({
    "name", "field", "op", "threshold", "baseline", "sigma", "for", "keep_firing_for", "clear_for", "hysteresis",
    "severity",
    "schema", "group", "labels", "min_baseline", "min_sigma", "min_request_rate", "alert", "enabled", "description",
    "runbook",
})  # fmt: skip
#: Every field a rule may judge.
RULE_FIELDS: frozenset[str] = frozenset(FIELD_BY_NAME)
_SEVERITIES = {"warning": Severity.WARNING, "critical": Severity.CRITICAL}
_RULE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
#: `for` of rules added through `[thresholds]` (the defaults' own value).
THRESHOLD_FOR = 30.0
_HYSTERESIS_NOTE = (
    "rules.hysteresis is accepted but no longer used: a firing alert resolves once its condition has been "
    "false for keep_firing_for (default: its for), whatever the margin"
)
_OFFSET_NOTE = (
    "baseline.offset is accepted but not used yet: the Prometheus collector cannot run offset queries, "
    "so baselines are learnt locally"
)


def _rule_changes(where: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """The Rule attributes an entry sets, validated one key at a time."""
    changes: dict[str, Any] = {}
    if "field" in raw:
        field = string(f"{where}.field", raw["field"])
        if field not in RULE_FIELDS:
            raise ConfigError(f"{where}.field: unknown field {field[:40]!r} (known: {', '.join(sorted(RULE_FIELDS))})")
        changes["field"] = field
    if "op" in raw:
        op = string(f"{where}.op", raw["op"])
        if op not in OPS:
            raise ConfigError(f"{where}.op: one of {', '.join(OPS)}, not {op[:10]!r}")
        changes["op"] = op
    given = [kind for kind in LIMIT_KINDS if kind in raw]
    if len(given) > 1:
        raise ConfigError(f"{where}: give one of {', '.join(LIMIT_KINDS)}, not {' and '.join(given)}")
    if given:
        kind = given[0]
        changes.update(dict.fromkeys(LIMIT_KINDS))
        changes[kind] = number(f"{where}.{kind}", raw[kind], minimum=0, strict=kind != "threshold")
    if "severity" in raw:
        level = string(f"{where}.severity", raw["severity"]).lower()
        if level not in _SEVERITIES:
            raise ConfigError(f"{where}.severity: warning or critical, not {level[:20]!r}")
        changes["severity"] = _SEVERITIES[level]
    if "for" in raw:
        changes["for_"] = duration(f"{where}.for", raw["for"])
    if "keep_firing_for" in raw and "clear_for" in raw:
        raise ConfigError(f"{where}: give keep_firing_for or its old name clear_for, not both")
    for key in ("keep_firing_for", "clear_for"):  # clear_for: the name before keep_firing_for
        if key in raw:
            changes["keep_firing_for"] = duration(f"{where}.{key}", raw[key])
    if "hysteresis" in raw:  # validated so a typo still fails, but no longer used (see _HYSTERESIS_NOTE)
        value = number(f"{where}.hysteresis", raw["hysteresis"], minimum=0)
        if value >= 1:
            raise ConfigError(f"{where}.hysteresis: a fraction below 1 (0.1 = 10 %), not {value!r}")
    for key in ("min_baseline", "min_sigma", "min_request_rate"):
        if key in raw:
            changes[key] = number(f"{where}.{key}", raw[key], minimum=0)
    for key in ("alert", "enabled"):
        if key in raw:
            changes[key] = boolean(f"{where}.{key}", raw[key])
    if "description" in raw:
        changes["description"] = string(f"{where}.description", raw["description"])[:200]
    if "runbook" in raw:
        changes["runbook"] = string(f"{where}.runbook", raw["runbook"])[:500]
    if any(key in raw for key in ("schema", "group", "labels")):
        labels = table(f"{where}.labels", raw.get("labels", {}))
        changes["filter"] = RowFilter(
            schema=regex(f"{where}.schema", raw["schema"]) if "schema" in raw else None,
            group=regex(f"{where}.group", raw["group"]) if "group" in raw else None,
            labels=tuple((label, regex(f"{where}.labels.{label}", p)) for label, p in labels.items()),
        )
    return changes


def _check_rule(where: str, rule: Rule) -> Rule:
    if rule.op == "<>" and rule.sigma is None:
        raise ConfigError(f"{where}.op: '<>' (either direction) needs a sigma limit")
    return rule


def _new_rule(where: str, name: str, changes: dict[str, Any]) -> Rule:
    required = ("field", "op", "severity")
    absent = [key for key in required if key not in changes]
    if absent:
        raise ConfigError(f"{where}: a new rule needs {', '.join(absent)} (no default rule is named {name!r})")
    if not any(changes.get(kind) is not None for kind in LIMIT_KINDS):
        raise ConfigError(f"{where}: a new rule needs one of {', '.join(LIMIT_KINDS)}")
    changes.setdefault("for_", THRESHOLD_FOR)
    return Rule(name=name, **changes)


def parse_rules(raw: object, base: tuple[Rule, ...], where: str = "rules") -> tuple[Rule, ...]:
    """`[[rules]]`: override (by name), disable (`enabled = false`) or add rules."""
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: expected [[rules]] entries (an array of tables)")
    rules = {rule.name: rule for rule in base}
    named_at: dict[str, str] = {}
    for index, entry in enumerate(raw):
        here = f"{where}[{index}]"
        entry = table(here, entry, RULE_KEYS)
        if "name" not in entry:
            raise ConfigError(f"{here}.name: every rule needs a name (a default's name overrides it)")
        name = string(f"{here}.name", entry["name"])
        if not _RULE_NAME.fullmatch(name):
            raise ConfigError(f"{here}.name: letters, digits, _ . - only (at most 64), not {name[:40]!r}")
        if name in named_at:
            raise ConfigError(f"{here}.name: {name!r} is already configured at {named_at[name]}")
        named_at[name] = here
        changes = _rule_changes(here, entry)
        rule = replace(rules[name], **changes) if name in rules else _new_rule(here, name, changes)
        rules[name] = _check_rule(here, rule)
    return tuple(rules.values())


def _builtin_rules() -> tuple[Rule, ...]:
    """The built-in rules: `aitop/defaults.toml`'s `[[rules]]`, parsed as a user's are; a rule that gives no
    runbook takes its field's (`aitop.fields`)."""
    rules = parse_rules(builtin()["rules"], (), where="defaults.rules")
    return tuple(rule if rule.runbook else replace(rule, runbook=FIELD_BY_NAME[rule.field].runbook) for rule in rules)


#: The defaults from practice. Names follow `<field>_<severity>` for fixed thresholds, so `[thresholds]` in the
#: config can retune them; `[[rules]]` overrides, disables or adds rules.
DEFAULT_RULES: tuple[Rule, ...] = _builtin_rules()


@dataclass(frozen=True, slots=True)
class AnalysisSettings:
    """Everything the analysis takes from the config: rules, prices, baseline and alert settings."""

    rules: tuple[Rule, ...] = DEFAULT_RULES
    prices: PriceTable = PriceTable()
    baseline: BaselineSettings = BaselineSettings()
    alerts: AlertSettings = AlertSettings()

    @property
    def bell(self) -> bool:
        return self.alerts.bell


def parse_thresholds(raw: object, base: tuple[Rule, ...], where: str = "thresholds") -> tuple[Rule, ...]:
    """`[thresholds]`: `error_rate = { warning = 0.02, critical = 0.1 }` sets the `<field>_<severity>` rules'
    limits (adding them if absent); `false` disables one."""
    rules = {rule.name: rule for rule in base}
    for field, levels in table(where, raw).items():
        here = f"{where}.{field}"
        if field not in RULE_FIELDS:
            raise ConfigError(f"{here}: unknown field (known: {', '.join(sorted(RULE_FIELDS))})")
        for level, value in table(here, levels, frozenset(_SEVERITIES)).items():
            name = f"{field}_{level}"
            if value is False:
                if name in rules:
                    rules[name] = replace(rules[name], enabled=False)
                continue
            limit = number(f"{here}.{level}", value)
            if name in rules:
                rules[name] = replace(rules[name], threshold=limit, baseline=None, sigma=None, op=">", enabled=True)
            else:
                rules[name] = Rule(name, field, ">", _SEVERITIES[level], threshold=limit, for_=THRESHOLD_FOR)
    return tuple(rules.values())


_BASELINE_PARSERS: Mapping[str, Any] = {
    "window": lambda w, v: duration(w, v, allow_zero=False),
    "slots": lambda w, v: integer(w, v, minimum=3),
    "warmup": duration,
    "min_slots": lambda w, v: integer(w, v, minimum=1),
    "forget_after": lambda w, v: duration(w, v, allow_zero=False),
    "drift_min_observations": lambda w, v: integer(w, v, minimum=1),
    "offset": lambda w, v: duration(w, v, allow_zero=False),
}
_ALERT_PARSERS: Mapping[str, Any] = {"keep_resolved": duration, "missing_grace": duration, "bell": boolean}


def _section(where: str, raw: object, parsers: Mapping[str, Any], kind: type) -> Any:
    data = table(where, raw, frozenset(parsers))
    assert {f.name for f in fields(kind)} >= set(parsers)
    return kind(**{key: parsers[key](f"{where}.{key}", value) for key, value in data.items()})


def parse_analysis(raw: Mapping[str, Any]) -> tuple[AnalysisSettings, tuple[str, ...]]:
    """The analysis settings from a parsed config document (other top-level keys are ignored here),
    and notes the user should see."""
    notes: list[str] = []
    rules = DEFAULT_RULES
    if "thresholds" in raw:
        rules = parse_thresholds(raw["thresholds"], rules)
    if "rules" in raw:
        rules = parse_rules(raw["rules"], rules)
        if any(isinstance(entry, dict) and "hysteresis" in entry for entry in raw["rules"]):
            notes.append(_HYSTERESIS_NOTE)
    baseline = _section("baseline", raw.get("baseline", {}), _BASELINE_PARSERS, BaselineSettings)
    if baseline.offset is not None:
        notes.append(_OFFSET_NOTE)
    settings = AnalysisSettings(
        rules=rules,
        prices=parse_prices(raw["prices"]) if "prices" in raw else PriceTable(),
        baseline=baseline,
        alerts=_section("alerts", raw.get("alerts", {}), _ALERT_PARSERS, AlertSettings),
    )
    return settings, tuple(notes)
