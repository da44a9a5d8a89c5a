"""The row plan cache: rows read through a `RowCache` are exactly the rows built from scratch, refresh after
refresh, through label churn, counter resets and series coming and going; and it keeps one plan only."""

import pytest
from helpers import histogram, series

from aitop.catalog import builtin_schemas
from aitop.rows import RowBuilder, RowCache, TargetData
from aitop.store import TargetWindow


def page(step: int, models: tuple[str, ...], reset: bool = False) -> dict:
    samples = {}
    for i, model in enumerate(models):
        n = 0 if reset else step * (i + 1) * 10.0
        for reason, share in (("stop", 0.8), ("abort", 0.1), ("error", 0.1)):
            samples[series("vllm:request_success_total", model_name=model, finished_reason=reason)] = n * share
        samples.update(histogram("vllm:e2e_request_latency_seconds",
                                 {"0.5": n * 0.3, "1": n * 0.7, "+Inf": n}, model_name=model))
        samples[series("vllm:num_requests_running", model_name=model)] = float(step % 5)
    return samples


def rows_of(window: TargetWindow, cache: RowCache | None, **grouping) -> list:
    builder = RowBuilder(builtin_schemas(), **grouping)
    builder.add_target(TargetData("a:1", window, True, cache))
    return [(row, builder.label_names()) for row in builder.rows()]


# Each scrape's models: steady, a model leaving and coming back, churning names, a reset at scrape 6.
SCRAPES = [("m1", "m2"), ("m1", "m2"), ("m1", "m2"), ("m1",), ("m1", "m2"), ("m1", "x5"), ("m1", "x6"),
           ("m1", "m2"), ("m1", "m2"), ("m1", "m2")]


@pytest.mark.parametrize("grouping", [{}, {"group_by": "finished_reason"},
                                      {"group_by": "instance", "within": ("vllm", "m1"), "within_group_by": None}])
def test_cached_rows_equal_rows_built_from_scratch(grouping):
    window, cache = TargetWindow(25.0), RowCache()
    hits = 0
    for step, models in enumerate(SCRAPES):
        window.add(10.0 * step, 10.0 * step, page(step, models, reset=step == 6))
        hits += cache.layout is window.latest.layout
        assert rows_of(window, cache, **grouping) == rows_of(window, None, **grouping)
        assert rows_of(window, cache, **grouping) == rows_of(window, None, **grouping)  # a plan reused
    assert hits >= 3  # unchanged sets of series reuse the plan


def test_a_cache_shared_by_two_groupings_is_rebuilt_not_misused():
    window, cache = TargetWindow(25.0), RowCache()
    for step in range(3):
        window.add(10.0 * step, 10.0 * step, page(step, ("m1", "m2")))
    assert rows_of(window, cache) == rows_of(window, None)
    assert rows_of(window, cache, group_by="finished_reason") == rows_of(window, None, group_by="finished_reason")
    assert rows_of(window, cache) == rows_of(window, None)


def test_the_cache_keeps_only_the_latest_set_of_series():
    window, cache = TargetWindow(25.0), RowCache()
    for step in range(40):  # a new model name every scrape
        window.add(10.0 * step, 10.0 * step, page(step, ("m1", f"churn{step}")))
        rows_of(window, cache)
        assert cache.layout is window.latest.layout
        planned = {step[2] for schema in cache.plan.schemas for step in schema.steps}
        assert planned <= set(window.latest.layout)
        assert not any(f"churn{step - 1}" in str(key) for key in planned)
