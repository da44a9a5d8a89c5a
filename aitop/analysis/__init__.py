"""The analysis: baselines, anomaly limits, drift (KS), cost, feedback, alert rules and their lifecycle.

Pure and headless — fed rows from snapshots by the monitor, which owns the one stateful `Analyzer`; the UI
only displays what comes out (row severities, derived fields, `Snapshot.alerts`).

Modules: `settings` (validation helpers, baseline/alert settings), `fields` (derived fields, names),
`baseline` (robust EWMA), `drift` (KS distance), `cost` (price table, daily spend), `feedback` (ratings),
`rules` (rules as data, defaults, instant verdicts), `messages` (alert text), `configure` (config
sections → `AnalysisSettings`), `engine` (`Analyzer`, alert lifecycle), `thresholds` (cell thresholds).
"""
