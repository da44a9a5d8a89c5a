"""`aitop detect TARGET…`: which schemas a source exposes, where each concept comes from, and why a column
is empty — the answer to "why is this column `—`?" without reading the catalog."""

from __future__ import annotations

import json
import sys

from aitop.config import Config
from aitop.detect_report import build_report, render_text, report_to_dict
from aitop.secret import mask, mask_data
from aitop.collectors import open_collector


async def detect_command(config: Config, output_format: str) -> int:
    """Collect once, report per schema and concept; 0 when a target answered, 1 when none did."""
    collector = await open_collector(config)
    try:
        collected = await collector.collect()
        names = await collector.metric_names()
    finally:
        await collector.aclose()
    report = build_report(collector.schemas, names, collected)
    if output_format == "json":
        sys.stdout.write(json.dumps(mask_data(report_to_dict(report)), indent=2, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(mask(render_text(report)))
    for target in collected.targets:
        if not target.up:
            print(mask(f"aitop: {target.url}: {target.error}"), file=sys.stderr)
    return 0 if any(target.up for target in collected.targets) else 1
