"""A row's history: one field of one row as a single PromQL expression for `query_range`, composed by the
field's formula (`aitop.derivations`) from the same parts as the instant queries (`aitop.sources.prometheus.promql`),
so a row's chart reads the series its table row reads."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from aitop.catalog import Resolved, Variant
from aitop.derive import INDEX
from aitop.sources.prometheus.promql import SchemaPlan, duration, joined, matcher_for, vector


def row_expression(plan: SchemaPlan, field: str, *, window: float, matcher: str) -> str | None:
    """One field of one row as a single PromQL expression (for `query_range`), or None if unavailable: the
    field's derivation (`aitop.derivations`) composes it from `_RowQueries`."""
    spec = INDEX.by_name.get(field)
    return spec.derive.promql(_RowQueries(plan, window, matcher)) if spec is not None else None


class _RowQueries:
    """One row's concepts as PromQL summed to one series, built from the instant queries' parts (`vector`):
    the same coalescing of group labels (LiteLLM's `requested_model`, else `model`) and the same spellings
    joined with `or` (vLLM V0's KV gauge where V1's is absent), so a row's history reads the series its
    table row reads."""

    def __init__(self, plan: SchemaPlan, window: float, matcher: str) -> None:
        self.plan, self.matcher, self.w = plan, matcher, duration(window)

    def _rate_fn(self, selector: str) -> str:
        return f"rate({selector}[{self.w}])"

    def _over(self, concept: str) -> Callable[[str], str]:
        # as the table reads it: a per-query cost gauge averaged over the window (`instant_queries`)
        if concept == "cost_per_query":
            return lambda sel: f"avg_over_time({sel}[{self.w}])"
        return lambda sel: sel

    def _vector(self, found: Resolved, names: Sequence[str], extra: Sequence[str] = (),
                fn: Callable[[str], str] = lambda selector: selector) -> str:  # fmt: skip
        variant = found.variant
        row = matcher_for(self.matcher, self.plan, variant)
        return vector(self.plan, variant, names, self.plan.group_labels(None, variant), [row, *extra], fn)

    def _either(self, concept: str, resolved: Resolved, build: Callable[[Resolved], str]) -> str:
        """`build` over each spelling of the concept, the first one a row has (as `instant_queries`)."""
        spellings = (resolved, *self.plan.others.get(concept, ()))
        return " or ".join(f"({build(found)})" for found in spellings) if len(spellings) > 1 else build(resolved)

    @staticmethod
    def _scaled(expr: str, variant: Variant) -> str:
        if variant.scale == 1:
            return expr
        return f"({expr}) * {variant.scale:g}" if " or " in expr else f"{expr} * {variant.scale:g}"  # `or` binds last

    def _joined(self, resolved: Resolved, aggregate: str, fn: Callable[[str], str]) -> str:
        labels = self.plan.group_labels(None, resolved.variant)
        row = matcher_for(self.matcher, self.plan, resolved.variant)
        return self._scaled(f"{aggregate}({joined(self.plan, resolved, labels, [row], aggregate, fn)})",
                            resolved.variant)

    def rate(self, concept: str) -> str | None:
        if not (found := self.plan.chosen.get(concept)):
            return None
        resolved, variant = found[0], found[0].variant
        if variant.join_via is not None:
            return self._joined(resolved, "sum", self._rate_fn)
        if self.plan.others.get(concept):  # (alternates exist only for one-name counters)
            return self._scaled(self._either(concept, resolved,
                                             lambda f: f"sum({self._vector(f, f.values, fn=self._rate_fn)})"), variant)
        names = [(n,) for n in resolved.values] if variant.metric_regex is None else [resolved.values]
        terms = [f"sum({self._vector(resolved, selected, fn=self._rate_fn)})" for selected in names]
        # `or vector(0)` per name: a name without series must not blank the sum of the others
        total = terms[0] if len(terms) == 1 else " + ".join(f"({term} or vector(0))" for term in terms)
        return self._scaled(total, variant)

    def _distribution(self, concept: str, resolved: Resolved, q: float) -> str:
        variant = resolved.variant
        if variant.kind == "histogram":
            return self._scaled(self._either(concept, resolved, lambda f: f"histogram_quantile({q:g}, sum by (le) "
                                             f"({self._vector(f, f.values, fn=self._rate_fn)}))"), variant)
        if variant.kind == "mean":
            total = f"sum({self._vector(resolved, resolved.values, fn=self._rate_fn)})"
            count = f"sum({self._vector(resolved, resolved.counts, fn=self._rate_fn)})"
            return self._scaled(f"{total} / {count}", variant)
        if variant.kind == "summary":  # only while one series holds the row, as in the table
            line = self._vector(resolved, resolved.values, [f'quantile="{q:g}"'])
            return self._scaled(f"(max({line}) and on () (count({line}) == 1))", variant)
        return self._scaled(self._either(concept, resolved,
                                         lambda f: f"{variant.aggregate}({self._vector(f, f.values)})"),
                            variant)

    def distribution(self, concept: str, q: float) -> str | None:
        if not (found := self.plan.chosen.get(concept)):
            return None
        # a summary, else its fallback: the source the table shows
        return " or ".join(f"({self._distribution(concept, entry, q)})" for entry in found) if len(found) > 1 \
            else self._distribution(concept, found[0], q)

    def gauge(self, concept: str) -> str | None:
        if not (found := self.plan.chosen.get(concept)):
            return None
        resolved, variant = found[0], found[0].variant
        if variant.value_label is not None:
            return None  # its reading is a label: no number to chart
        if variant.join_via is not None:
            return self._joined(resolved, variant.aggregate, lambda selector: selector)
        over = self._over(concept)
        return self._scaled(self._either(concept, resolved,
                                         lambda f: f"{variant.aggregate}({self._vector(f, f.values, fn=over)})"),
                            variant)


def history_step(seconds: float, points: int = 240, max_points: int = 11_000) -> float:
    """A query_range step giving about `points` points and never more than Prometheus's 11,000 limit."""
    step = max(1.0, math.ceil(seconds / points))
    while seconds / step > max_points:
        step *= 2
    return step
