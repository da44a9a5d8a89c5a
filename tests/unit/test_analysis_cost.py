"""Cost from a price table, projected daily spend and the budget rule; feedback conventions."""

from __future__ import annotations

import pytest

from aitop.analysis.configure import AnalysisSettings
from aitop.analysis.cost import Price, PriceTable, parse_prices, priced, with_daily_spend
from aitop.analysis.engine import Analyzer
from aitop.analysis.feedback import classify_rating, negative_ratio, paired_side, rating_of
from aitop.analysis.configure import DEFAULT_RULES
from aitop.analysis.settings import ConfigError
from aitop.model import Missing, Row

T0 = 1_700_000_000.0
PRICES = PriceTable((("gpt-4o", Price(2.5, 10.0)), ("llama-*", Price(0.1, 0.2)), ("*", Price(1.0, 1.0))))
TOKENS = {"request_rate": 2.0, "input_tokens_rate": 1000.0, "output_tokens_rate": 100.0}


def vllm_row(group="llama-3.1-8b", **values):
    # vLLM exposes no cost metric at all: cost fields are NO_METRIC
    return Row("vllm", group, "model_name", {**values, "cost_per_hour": None, "cost_per_request": None},
               missing={"cost_per_hour": Missing.NO_METRIC, "cost_per_request": Missing.NO_METRIC})


def test_price_table_prices_rows_without_native_cost():
    row = priced(vllm_row(**TOKENS), PRICES)
    per_second = (1000 * 0.1 + 100 * 0.2) / 1e6
    assert row.value("cost_per_hour") == pytest.approx(per_second * 3600)
    assert row.value("cost_per_request") == pytest.approx(per_second / 2.0)
    assert "llama-*" in row.provenance["cost_per_hour"]


def test_exact_names_win_over_globs_in_config_order():
    assert PRICES.lookup("gpt-4o")[0] == "gpt-4o"
    assert PRICES.lookup("llama-3.1-70b")[0] == "llama-*"
    assert PRICES.lookup("mistral")[0] == "*"
    assert PriceTable().lookup("x") is None


def test_an_exact_name_wins_over_a_glob_listed_before_it():
    price_a, price_b = Price(1.0, 2.0), Price(3.0, 4.0)
    table = PriceTable((("gpt-*", price_a), ("gpt-4o", price_b), ("m[1]", price_a)))
    assert table.lookup("gpt-4o") == ("gpt-4o", price_b)  # not the earlier glob
    assert table.lookup("gpt-4o-mini") == ("gpt-*", price_a)
    assert table.lookup("m[1]") == ("m[1]", price_a)  # a name with glob characters matches itself exactly
    assert table.lookup("m1") == ("m[1]", price_a)  # (and, as a glob, what it describes)


def test_native_cost_always_wins():
    native = Row("llm", "gpt-4o", "model", {**TOKENS, "cost_per_hour": 12.0, "cost_per_request": 0.001})
    assert priced(native, PRICES) is native
    lacking_data = Row("llm", "gpt-4o", "model", {**TOKENS, "cost_per_hour": None},
                       missing={"cost_per_hour": Missing.NOT_ENOUGH_SAMPLES})
    assert priced(lacking_data, PRICES) is lacking_data  # the counter exists: not ours to replace


def test_unknown_token_rates_leave_cost_unknown_never_zero():
    row = priced(vllm_row(request_rate=2.0, input_tokens_rate=None, output_tokens_rate=50.0), PRICES)
    assert row.value("cost_per_hour") is None and row.missing_reason("cost_per_hour") is Missing.NO_METRIC
    idle = priced(vllm_row(request_rate=0.0, input_tokens_rate=0.0, output_tokens_rate=0.0), PRICES)
    assert idle.value("cost_per_hour") == 0.0 and idle.value("cost_per_request") is None
    assert idle.missing_reason("cost_per_request") is Missing.NO_OBSERVATIONS


def test_daily_spend_is_hourly_times_24_or_unknown():
    assert with_daily_spend(Row("llm", "m", "model", {"cost_per_hour": 5.0})).value("cost_per_day") == 120.0
    unknown = with_daily_spend(Row("llm", "m", "model", {}, missing={"cost_per_hour": Missing.NOT_ENOUGH_SAMPLES}))
    assert unknown.value("cost_per_day") is None
    assert unknown.missing_reason("cost_per_day") is Missing.NOT_ENOUGH_SAMPLES


def test_budget_rule_warns_after_five_minutes_of_projected_overspend():
    rules = tuple(r for r in DEFAULT_RULES if r.name == "cost_per_day_warning")
    analyzer = Analyzer(AnalysisSettings(rules=rules, prices=PriceTable((("gpt-4o", Price(2.5, 10.0)),))))
    # 1000 in + 100 out tokens/s at gpt-4o prices: $12.6/h → $302/day
    states = []
    for i in range(200):
        analysis = analyzer.process([vllm_row("gpt-4o", **TOKENS)], now=T0 + i * 2.0, window_seconds=30.0)
        states.append([a.state for a in analysis.alerts])
    assert states[149] == ["pending"] and states[150] == ["firing"]
    assert analysis.rows[0].value("cost_per_day") == pytest.approx(302.4)
    assert analysis.alerts[0].message.startswith("projected spend $302/day (threshold $100/day) on gpt-4o")


def test_prices_config_errors_name_the_key():
    assert parse_prices({"gpt-4o": {"input": 2.5, "output": 10}}).lookup("gpt-4o")[1] == Price(2.5, 10.0)
    with pytest.raises(ConfigError, match=r'prices\."gpt-4o"\.output: must be at least 0'):
        parse_prices({"gpt-4o": {"input": 2.5, "output": -1}})
    with pytest.raises(ConfigError, match=r'prices\."x"\.inptu: unknown key'):
        parse_prices({"x": {"inptu": 1, "output": 1}})
    with pytest.raises(ConfigError, match="give both input and output"):
        parse_prices({"x": {"input": 1}})


@pytest.mark.parametrize(("value", "side"), [
    ("thumbs_up", "positive"), ("UP", "positive"), ("👍", "positive"), ("1", "positive"), ("like", "positive"),
    ("thumbs_down", "negative"), (" bad ", "negative"), ("👎", "negative"), ("0", "negative"), ("-1", "negative"),
    ("neutral", None), ("", None), (None, None),
])
def test_rating_values_classify(value, side):
    assert classify_rating(value) == side


def test_rating_labels_and_paired_counters():
    assert rating_of({"model": "m", "verdict": "dislike"}) == "negative"
    assert rating_of({"sentiment": "positive"}) == "positive" and rating_of({"model": "m"}) is None
    assert paired_side("agent_feedback_positive_total") == "positive"
    assert paired_side("chat_feedback_negative") == "negative"
    assert paired_side("llm_feedback_total") is None


def test_negative_ratio_is_unknown_without_votes():
    assert negative_ratio(0.0, 0.0) is None
    assert negative_ratio(9.0, 1.0) == pytest.approx(0.1)
