"""A short "why" per troubled row, from rules written as data (`why_rules.toml`), with its evidence.

Each rule is a list of conditions on a row's fields and the sentence naming the cause and the setting to
change. The first rule whose conditions all hold gives the row's why; the figures that made them hold are its
evidence, kept with the row (`Row.provenance["why"]`), shown by `e` and in the JSON (`why`).
"""

from __future__ import annotations

import operator
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from aitop.fields import FIELD_BY_NAME
from aitop.format import format_value
from aitop.explanations import with_lines
from aitop.model import Row, row_with

#: The provenance key holding a row's why line and its evidence.
WHY = "why"
_OPS: Mapping[str, Callable[[float, float], bool]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
}


@dataclass(frozen=True, slots=True)
class WhyRule:
    """Conditions (field, op, threshold), all of which must hold, and the sentence they lead to."""

    id: str
    when: tuple[tuple[str, str, float], ...]
    why: str
    #: The first condition with its operator's function (None: no condition), for `why_of`'s quick test.
    first: tuple[str, Callable[[float, float], bool], float] | None = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        name, op, threshold = self.when[0] if self.when else ("", ">", 0.0)
        object.__setattr__(self, "first", (name, _OPS[op], threshold) if self.when else None)

    def evidence(self, row: Row) -> list[str] | None:
        """The figures that make every condition hold, or None when one does not."""
        shown = []
        for name, op, threshold in self.when:
            value = row.value(name)
            if value is None or not _OPS[op](value, threshold):
                return None
            bound = "0" if threshold == 0 else format_value(name, threshold)
            shown.append(f"{FIELD_BY_NAME[name].heading} {format_value(name, value)} {op} {bound}")
        return shown


def parse_rules(raw: Mapping) -> tuple[WhyRule, ...]:
    """Rules from the TOML data, validated (a typo in a field or an operator fails loudly)."""
    rules = []
    for entry in raw.get("rule", []):
        when = tuple((str(name), str(op), float(threshold)) for name, op, threshold in entry["when"])
        for name, op, _ in when:
            if name not in FIELD_BY_NAME or op not in _OPS:
                raise ValueError(f"why rule {entry.get('id')!r}: unknown field {name!r} or operator {op!r}")
        rules.append(WhyRule(str(entry["id"]), when, str(entry["why"])))
    return tuple(rules)


RULES: tuple[WhyRule, ...] = parse_rules(tomllib.loads((Path(__file__).with_name("why_rules.toml")).read_text("utf-8")))


def why_of(row: Row, rules: Sequence[WhyRule] = RULES) -> tuple[WhyRule, list[str]] | None:
    """The first rule that holds for the row, with its evidence."""
    values = row.values
    for rule in rules:
        # Most rows fail every rule's first condition: tested here, without making any evidence.
        if (first := rule.first) is not None:
            value = values.get(first[0])
            if value is None or not first[1](value, first[2]):
                continue
        if (evidence := rule.evidence(row)) is not None:
            return rule, evidence
    return None


def with_why(rows: Iterable[Row], rules: Sequence[WhyRule] = RULES) -> list[Row]:
    """The rows, each troubled one with its why line and evidence in `provenance["why"]`."""
    out = []
    for row in rows:
        found = why_of(row, rules)
        if found is None:
            out.append(row)
            continue
        rule, evidence = found
        line = f"{rule.why} — evidence: {'; '.join(evidence)}"
        out.append(row_with(row, provenance=with_lines(row.provenance, {WHY: line})))
    return out


def why_line(row: Row) -> str | None:
    """The row's why sentence (without its evidence), or None."""
    text = row.provenance.get(WHY)
    return text.split(" — evidence: ", 1)[0] if text else None
