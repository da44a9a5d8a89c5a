"""What a Prometheus-mode row's explanations quote: the PromQL each field was answered by.

Made only when a row's explanations are read (`aitop.accumulator.Accumulator.pending`): while the answers are
read, a row only notes which answers (`Answer`, one per query) explain its fields; `server_lines` turns them
into the row's `queries` and `kind_queries` lines.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aitop.derive import INDEX, KIND_NOTES, Accumulator
from aitop.sources.prometheus.promql import Query


@dataclass(frozen=True, slots=True, eq=False)
class Answer:
    """One query's answer as the explanations quote it, for every row it fed."""

    expr: str  # the expression, scaled as read
    note: str  # what kind of number it is ("a mean …; "), or ""
    count: int  # series answered
    fields: tuple[str, ...]  # the fields (or "@concept" ratio sides) whose line quotes it
    explained: tuple[tuple[str, str], ...]  # (field, source kind) of a latency-like field read from it
    line: str  # a latency-like field's line


def answer_of(query: Query, count: int) -> Answer | None:
    """How `query`'s answer of `count` series explains fields; None when it explains none."""
    expr, note = _explain(query)
    if query.concept in INDEX.quantile_fields:  # finish_row picks the line of the source it used
        kind = "histogram" if query.kind == "quantile" else query.kind
        explained = tuple((field, kind) for field in ((query.field,) if query.field
                                                      else INDEX.concept_fields[query.concept]))
        fields: tuple[str, ...] = ()
    else:
        explained = ()
        fields = ("errors",) if query.concept == "errors" else INDEX.concept_fields.get(query.concept, ())
        if query.concept in INDEX.ratio_parts:  # a ratio's numerator or denominator: derive.py divides them
            fields = (f"@{query.concept}",)
    if not fields and not explained:
        return None
    return Answer(expr, note, count, fields, explained, f"{expr} — {note}{count} series answered by the server")


def server_lines(answers: Sequence[Answer], acc: Accumulator) -> None:
    """Fill `acc.queries` (field -> line) and `acc.kind_queries` from the answers behind the row, in the
    order they were read."""
    parts: dict[str, list[tuple[str, str, int]]] = {}
    for answer in answers:
        for explained in answer.explained:
            acc.kind_queries[explained] = answer.line
        for field in answer.fields:
            found = parts.setdefault(field, [])
            if not any(expr == answer.expr for expr, _, _ in found):
                found.append((answer.expr, answer.note, answer.count))
    acc.queries.update(_explanations(parts))


def _explain(query: Query) -> tuple[str, str]:
    """(expression, " — note") of a query, for the fields it fills."""
    note = f"{KIND_NOTES[query.kind]}; " if query.kind in KIND_NOTES else ""
    scaled = "" if query.scale == 1 or query.kind in ("errors", "feedback") else f" × {query.scale:g}"
    return query.expr + scaled, note


def _explanations(parts: Mapping[str, list[tuple[str, str, int]]]) -> dict[str, str]:
    """field -> one line: the PromQL (summed queries joined by +), what it is, and how many series answered.
    The error ratio quotes the request expression as its denominator."""
    lines = {}
    for field, found in parts.items():
        exprs = " + ".join(dict.fromkeys(expr for expr, _, _ in found))
        lines[field] = (exprs, found[0][1], sum(count for _, _, count in found))
    out = {field: f"{expr} — {note}{count} series answered by the server"
           for field, (expr, note, count) in lines.items()}
    for field, (expr, _, _) in lines.items():  # one side of a ratio field: the bare expression, divided later
        if field.startswith("@"):
            out[field] = f"({expr})" if " + " in expr else expr
    if "request_rate" in lines:
        expr = lines["request_rate"][0]
        out["@requests"] = f"({expr})" if " + " in expr else expr
    if "errors" in lines:
        expr, _, count = lines["errors"]
        requests_expr = lines["request_rate"][0] if "request_rate" in lines else ""
        if " + " in requests_expr:
            requests_expr = f"({requests_expr})"
        ratio = f"{expr} / {requests_expr}" if requests_expr else expr
        out["error_rate"] = f"{ratio} — {count} series answered by the server"
        del out["errors"]
    return out
