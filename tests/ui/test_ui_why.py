"""Why lines: rules as data (aitop/why_rules.toml) name a troubled row's likely cause; `e` shows the figures
behind it, the drill-down's title and the JSON carry it."""

from __future__ import annotations

import pytest
from ui_fakes import collected, make_row

from aitop.model import Snapshot
from aitop.output import row_to_dict
from aitop.ui.explain import explain_text
from aitop.ui.screens import DetailScreen
from aitop.ui.screens.modals import ExplainScreen
from aitop.ui.themes import palette_from_variables
from aitop.why import RULES, parse_rules, why_of, with_why

KV_FULL = "KV cache full: preempting; raise gpu-memory-utilization or lower max-num-seqs"


def full_kv_row():
    (row,) = with_why([make_row("llama", kv_cache_usage=0.97, preemptions_rate=0.6, request_rate=5.0)])
    return row


def test_first_rule_that_holds_names_the_cause_with_its_evidence():
    row = full_kv_row()
    assert row.provenance["why"] == f"{KV_FULL} — evidence: KV % 97.0% >= 95.0%; preempt/s 0.60 > 0"
    assert row_to_dict(row)["why"] == row.provenance["why"]
    calm = make_row("calm", kv_cache_usage=0.5, preemptions_rate=0.0)
    assert why_of(calm) is None and "why" not in with_why([calm])[0].provenance
    unknown = make_row("unknown", kv_cache_usage=0.99)  # preemptions not exposed: no rule can hold on it
    assert why_of(unknown) is None
    preempting = make_row("p", kv_cache_usage=0.5, preemptions_rate=2.0)
    assert why_of(preempting)[0].id == "preempting"


def test_rules_are_validated_data():
    assert [rule.id for rule in RULES][:2] == ["kv_full_preempting", "waiting_for_kv"]
    with pytest.raises(ValueError, match="unknown field 'kv_usage'"):
        parse_rules({"rule": [{"id": "x", "when": [["kv_usage", ">", 1]], "why": "y"}]})


async def test_e_shows_the_evidence_and_the_drill_down_title_the_cause(make_app):
    app = make_app([collected([full_kv_row()])])
    async with app.run_test(size=(160, 40)) as pilot:
        await app.poll_once()
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DetailScreen)
        assert f"why: {KV_FULL}" in str(screen.query_one("#detail-title").render())
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, ExplainScreen)
        body = app.screen.body
        assert f"engine    {KV_FULL}" in body
        assert "evidence  KV % 97.0% >= 95.0%; preempt/s 0.60 > 0" in body
    palette = palette_from_variables({})
    plain = explain_text(full_kv_row(), "request_rate", Snapshot(0, 30, "scrape", (), (), ()), palette).plain
    assert "evidence  KV % 97.0% >= 95.0%" in plain
