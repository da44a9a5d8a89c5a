"""One field table (`aitop.fields`) read by every consumer: a field's name is spelled in few files, its
display comes from its one declaration, and the facts the consumers read off its entry hold together."""

from __future__ import annotations

from pathlib import Path

import pytest

from aitop.analysis.configure import DEFAULT_RULES, RULE_FIELDS, parse_rules
from aitop.analysis.messages import RELATED, noun, show
from aitop.defaults import builtin
from aitop.derivations import Quantile
from aitop.field_uses import FLEET, SPLIT, TABLE, TREND
from aitop.fields import FIELD_BY_NAME, FIELDS
from aitop.format import format_value
from aitop.output import TABLE_FIELDS

PACKAGE = Path(__file__).resolve().parents[2] / "aitop"
#: At most this many files under aitop/ spell a field's name: its entry, the built-in config, one more.
MOST_FILES = 3


def spelled_in(name: str) -> list[str]:
    """The files under aitop/ (code and data) whose text holds `name`, relative to the package."""
    found = []
    for path in sorted(PACKAGE.rglob("*")):
        if not path.is_file() or path.suffix not in {".py", ".toml", ".json", ".md", ".txt", ".tcss"}:
            continue
        relative = path.relative_to(PACKAGE).as_posix()
        if name in path.read_text(encoding="utf-8"):
            found.append(relative)
    return found


@pytest.mark.parametrize("name", ["latency_p95", "ttft_p95", "latency_p50", "tpot_p95", "ttft_p99"])
def test_a_field_name_is_spelled_in_at_most_three_files(name):
    files = spelled_in(name)
    assert any(name.startswith("fields/") for name in files)  # the search works: the field's own entry is found
    assert len(files) <= MOST_FILES, files


def test_every_field_formats_from_its_entry_cost_per_day_included():
    assert format_value("cost_per_day", 12345.0) == "$12,345/day"
    assert show("cost_per_day", 12345.0) == "$12,345/day" and show("cost_per_day", None) == "?"
    assert noun("cost_per_day") == "projected spend" and noun("latency_drift") == "latency drift"
    for field in FIELDS:  # no value of any field reads in exponent notation ("1.234e+04")
        assert not any("e+" in format_value(field.name, v) or "e-" in format_value(field.name, v)
                       for v in (12345.0, 1.5e9, 1e-7, 0.00042)), field.name  # fmt: skip
    assert frozenset(FIELD_BY_NAME) == RULE_FIELDS


def test_the_consumers_lists_come_from_the_entries():
    assert tuple(field.name for field in FIELDS if TABLE in field.shown) == TABLE_FIELDS
    assert "latency_p95" in TABLE_FIELDS and "queue_p95" not in TABLE_FIELDS
    assert [field.name for field in FIELDS if FLEET in field.shown] == ["latency_p95"]
    assert isinstance(FIELD_BY_NAME["latency_p95"].derive, Quantile)
    assert {field.name for field in FIELDS if TREND in field.shown} == {"request_rate", "latency_p95"}
    assert [field.name for field in FIELDS if SPLIT in field.shown][:2] == ["request_rate", "error_rate"]
    assert RELATED["latency_p95"] == RELATED["latency_drift"] and "ttft_p95" in RELATED["latency_p95"]


def test_every_name_an_entry_or_the_built_in_config_gives_is_a_field():
    for field in FIELDS:
        assert set(field.related) <= set(FIELD_BY_NAME), field.name
    places = [field.column.at for field in FIELDS if field.column is not None and field.column.at is not None]
    assert len(places) == len(set(places))
    for keys in builtin()["columns"].values():
        assert set(keys) - {"model", "schema", "trend"} <= set(FIELD_BY_NAME)


def test_the_built_in_rules_are_a_users_rules_file_with_the_fields_runbooks():
    again = parse_rules(builtin()["rules"], ())
    assert [rule.name for rule in again] == [rule.name for rule in DEFAULT_RULES]
    for plain, rule in zip(again, DEFAULT_RULES):
        assert rule.runbook == FIELD_BY_NAME[rule.field].runbook != ""
        assert plain.runbook == "" and rule.description == plain.description and rule.threshold == plain.threshold
