"""Tokens per request and the peak request rates: derived by the analysis, in the JSON and in the columns."""

from __future__ import annotations

import pytest

from aitop.analysis.engine import Analyzer
from aitop.model import Missing, Row
from aitop.output import row_to_dict


def row(rate: float | None, *, stale: bool = False, inputs: float | None = 1000.0, outputs: float | None = 300.0) -> Row:
    values = {"request_rate": rate, "input_tokens_rate": inputs, "output_tokens_rate": outputs}
    return Row("vllm", "m", "model_name", values, stale=stale)


def run(rates, *, step: float = 10.0, window: float = 30.0, **kwargs) -> list[Row]:
    analyzer = Analyzer()
    return [analyzer.process([row(rate, **kwargs)], now=1000.0 + i * step, window_seconds=window).rows[0]
            for i, rate in enumerate(rates)]  # fmt: skip


def test_tokens_per_request_are_token_rates_over_the_request_rate():
    first = run([4.0])[0]
    assert first.value("input_tokens_per_request") == pytest.approx(250.0)
    assert first.value("output_tokens_per_request") == pytest.approx(75.0)
    idle = run([0.0])[0]  # no request in the window: unknown, never a division by zero
    assert idle.value("output_tokens_per_request") is None
    assert idle.missing_reason("output_tokens_per_request") is Missing.NO_OBSERVATIONS


def test_the_window_peak_forgets_what_left_the_window_and_the_session_peak_does_not():
    rows = run([2.0, 9.0, 3.0, 3.0, 3.0, 1.0], step=10.0, window=30.0)
    assert [r.value("request_rate_peak") for r in rows] == [2.0, 9.0, 9.0, 9.0, 3.0, 3.0]
    assert [r.value("request_rate_session_peak") for r in rows] == [2.0, 9.0, 9.0, 9.0, 9.0, 9.0]


def test_a_stale_row_does_not_count_towards_a_peak():
    analyzer = Analyzer()
    analyzer.process([row(2.0)], now=1000.0, window_seconds=30.0)
    stale = analyzer.process([row(50.0, stale=True)], now=1010.0, window_seconds=30.0).rows[0]
    assert stale.value("request_rate_session_peak") == 2.0


def test_the_new_fields_are_in_the_json_contract():
    data = row_to_dict(run([4.0])[0])
    assert data["input_tokens_per_request"] == 250.0 and data["request_rate_peak"] == 4.0
    assert data["request_rate_session_peak"] == 4.0 and "cost_per_day" in data
