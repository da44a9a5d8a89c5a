"""`--at` against a server: the status line, the table footer and the JSON say the numbers are of that instant."""

from __future__ import annotations

import json

from ui_fakes import T0, make_row

from aitop.model import Snapshot, TargetHealth
from aitop.output import to_json, to_table
from aitop.recording.reader import rfc3339
from aitop.ui.cells import Palette
from aitop.ui.widgets.status_bar import status_text

PROM = TargetHealth("http://prom:9090", "prometheus", True, last_success=T0)
AT = 1_796_440_320.0  # 2026-12-05T03:12:00Z


def snapshot(**extra) -> Snapshot:
    return Snapshot(T0, 60.0, "prometheus", ("http://prom:9090",), (PROM,),
                    (make_row("llama-3.1-8b", request_rate=4.2),), **extra)


def test_status_line_has_an_at_badge_and_no_age_when_evaluated_at_a_fixed_instant():
    text = status_text(snapshot(at=AT), T0 + 3600, Palette()).plain
    assert " AT 2026-12-05 03:12:00Z " in text and "time travel" in text and "updated" not in text
    assert " AT " not in status_text(snapshot(), T0, Palette()).plain


def test_headless_outputs_say_the_instant():
    assert json.loads(to_json(snapshot(at=AT)))["at"] == "2026-12-05T03:12:00.000Z" == rfc3339(AT)
    assert json.loads(to_json(snapshot()))["at"] is None
    assert "AT 2026-12-05T03:12:00.000Z: every query evaluated at that instant (--at)" in to_table(snapshot(at=AT))
