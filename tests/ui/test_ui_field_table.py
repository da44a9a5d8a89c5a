"""The UI's readers of the field table: the sidebar shows a field as its entry says (the unit of
`cost_per_day`, not "cost_per_day 1.234e+04"), and every chart line an entry names is drawn."""

from __future__ import annotations

from dataclasses import replace

from ui_fakes import T0, alert, make_row

from aitop.analysis.configure import DEFAULT_RULES
from aitop.analysis.messages import message
from aitop.analysis.rules import evaluate
from aitop.fields import FIELDS
from aitop.model import Severity
from aitop.ui.alert_text import alert_text
from aitop.ui.cells import Palette
from aitop.ui.screens.detail import CHART_FIELDS, CHARTS


def test_the_sidebar_shows_projected_spend_in_its_unit_like_the_message():
    rule = next(rule for rule in DEFAULT_RULES if rule.name == "cost_per_day_warning")
    hourly = make_row("gpt-4o", schema="llm", cost_per_hour=12345.0 / 24)
    row = replace(hourly, values={**hourly.values, "cost_per_day": 12345.0})  # the analysis adds it
    verdict = evaluate(rule, row)
    said = message(rule, row.group, verdict, None)
    assert said == "projected spend $12,345/day (threshold $100/day) on gpt-4o"
    shown = alert(row.group, "cost_per_day", severity=Severity.WARNING, value=verdict.value, threshold=rule.threshold,
                  rule=rule.name, message=said)  # fmt: skip
    text = alert_text(shown, T0, Palette(), width=80).plain
    assert "$/day $12,345/day > $100/day · cost_per_day_warning" in text
    assert "e+" not in text and "cost_per_day 1" not in text


def test_every_chart_line_an_entry_names_is_drawn():
    named = [field.name for field in FIELDS if field.chart is not None]
    assert list(CHART_FIELDS) == named
    assert all(series for _, _, series in CHARTS)
