"""Recordings: what aitop scraped, written as OpenMetrics text with timestamps, and read back as a target.

A recording is a plain OpenMetrics exposition (`.gz` compresses it) that `promtool tsdb create-blocks-from
openmetrics` and VictoriaMetrics' `/api/v1/import/prometheus` load as they are, and that aitop replays
through the same store and row math as live scrapes. `writer` records, `reader` reads (and repairs a file a
crash cut off), `replay` is the collector over a recording, `command` is `aitop record`.
"""
