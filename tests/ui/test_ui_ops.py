"""In the TUI: row actions (`[[action]]`: the key runs the command on the selected row with its
values as separate arguments, never through a shell; the outcome is notified), the sidebar's runbook and
silence marks, and the SLO view in scrape mode."""

from __future__ import annotations

import json
import sys

from ui_fakes import collected, fleet

from aitop.actions import RowAction
from aitop.ops_config import OpsSettings

SIZE = (120, 40)


async def test_action_key_runs_the_command_on_the_selected_row(make_app, tmp_path):
    out = tmp_path / "args.txt"
    script = "import json, sys, pathlib; pathlib.Path(sys.argv[1]).write_text(json.dumps(sys.argv[2:])); print('done')"
    action = RowAction("logs", "l", (sys.executable, "-c", script, str(out), "--model=$MODEL",
                                              "$SCHEMA", "${PROMQL}", "$TARGET", "$INSTANCE"))
    app = make_app([collected(fleet())])
    app.monitor.ops = OpsSettings(actions=(action,))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await app.poll_once()
        await pilot.pause()
        await pilot.press("l")
        await app.workers.wait_for_complete()
        await pilot.pause()
        messages = [n.message for n in app._notifications]
    row = app.snapshot.rows[0]
    assert json.loads(out.read_text()) == [
        f"--model={row.group}", row.schema, f'{row.group_label}="{row.group}"', app.monitor.collector.targets[0], "",
    ]
    assert messages == [f"logs on {row.group}: exit 0: done"]


async def test_a_hostile_model_name_stays_one_argument(tmp_path):
    from aitop.actions import expand

    argv = expand(("echo", "$MODEL", "x-$MODEL"), {"MODEL": "a; rm -rf ~ $(id)"})
    assert argv == ["echo", "a; rm -rf ~ $(id)", "x-a; rm -rf ~ $(id)"]


def test_sidebar_alert_detail_shows_the_runbook_and_the_silence():
    from aitop.model import Alert, Severity
    from aitop.ui.alert_text import alert_text
    from aitop.ui.cells import Palette

    alert = Alert("a", "error_rate_critical", Severity.CRITICAL, "firing", "vllm", "llama", "error_rate", 0.09,
                  0.05, 0.0, "llama: 9% of requests fail", runbook="check the provider's status; roll back",
                  silenced_by=("s1",))
    lines = alert_text(alert, 60.0, Palette(), width=80).plain.splitlines()
    assert lines[0].endswith("firing 1m · silenced")  # ages past the first minute tick by the minute
    assert lines[-1] == "  runbook: check the provider's status; roll back"


async def test_slo_view_in_scrape_mode_leaves_the_windows_it_has_not_seen_unknown(make_app):
    from aitop.slo.spec import SLO
    from aitop.ui.slo_view import NO_SLOS, SloScreen

    app = make_app([collected(fleet())])
    app.monitor.ops = OpsSettings(slos=(SLO("avail", 0.999),))
    async with app.run_test(size=(160, 40)) as pilot:
        await app.poll_once()
        await pilot.press("b")
        await app.workers.wait_for_complete()
        await pilot.pause()
        lines = app.screen.body_text.splitlines()
        assert isinstance(app.screen, SloScreen)
        await pilot.press("escape")
        await pilot.pause()
        app.monitor.ops = OpsSettings()
        await pilot.press("b")
        await app.workers.wait_for_complete()
        await pilot.pause()
        empty = app.screen.body_text
    llama = next(line for line in lines if "vllm/llama-3.1-8b" in line).split()
    # one poll of history: every window of every pair is unknown, and so is the verdict — never "ok"
    assert llama[4:8] == ["?/?", "?/?", "?/?", "?/?"] and llama[-1] == "unknown"
    assert empty == NO_SLOS
