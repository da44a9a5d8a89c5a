"""A scrape with the previous one's keys in the same order is compared by position; it must mark the same
restarts and deployments as the full comparison."""

from __future__ import annotations

import random

from aitop.markers import MarkerLog

T0 = 1_790_000_000.0


class Full(MarkerLog):
    def observe(self, instance, wall, samples) -> None:  # the positional comparison off
        seen = self._seen.get(instance)
        if seen is not None and seen.order is not None:
            seen.order = [*seen.order, None]  # never the page's keys: every scrape takes the full comparison
        super().observe(instance, wall, samples)


def pages(rng: random.Random, count: int):
    started, block, requests, models = T0 - 100, "16", {"a": 5.0, "b": 9.0}, ["a", "b"]
    for _ in range(count):
        roll = rng.random()
        if roll < 0.05:
            started += 50  # a restart no counter shows
        elif roll < 0.1:
            block = rng.choice(("16", "32"))  # a new info label set: a deployment
        elif roll < 0.15:
            models = rng.sample(["a", "b", "c"], rng.randint(1, 3))  # models come, go and reorder
        for model in requests:
            requests[model] = float(rng.randint(0, 3)) if rng.random() < 0.05 else requests[model] + rng.random()
        requests.setdefault("c", 1.0)
        page = {("process_start_time_seconds", ()): started,
                ("vllm:cache_config_info", (("block_size", block), ("model_name", "a"))): 1.0}
        for model in models:
            page[("llm_requests_total", (("model", model),))] = requests[model]
            page[("llm_latency_seconds_count", (("model", model),))] = requests[model] * 2
        yield page


def test_positional_comparison_marks_what_the_full_one_marks():
    texts: set[str] = set()
    for seed in range(40):
        fast, full = MarkerLog({"model", "model_name"}), Full({"model", "model_name"})
        for step, page in enumerate(pages(random.Random(seed), 80)):
            fast.observe("h:1", T0 + step, dict(page))
            full.observe("h:1", T0 + step, dict(page))
        assert list(fast.markers) == list(full.markers), seed
        texts |= {marker.text.split(" ", 1)[1] for marker in fast.markers}
    assert {"restarted (counters reset)", "restarted (process start time changed)"} <= texts
    assert {"changed on h:1: block_size 16 → 32", "c appeared on h:1"} <= texts


def test_a_steady_page_is_compared_by_position():
    log = MarkerLog({"model"})
    page = {("llm_requests_total", (("model", "m"),)): 5.0, ("process_start_time_seconds", ()): T0}
    log.observe("h:1", T0, page)
    log.observe("h:1", T0 + 1, page)
    assert log._seen["h:1"].counters == {}  # the dict of the full comparison was not rebuilt
    log.observe("h:1", T0 + 2, {**page, ("llm_requests_total", (("model", "m"),)): 1.0})
    assert [m.text for m in log.markers] == ["h:1 restarted (counters reset)"]
