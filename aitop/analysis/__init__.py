"""The analysis: baselines, anomaly limits, drift (KS), cost, feedback, alert rules and their lifecycle.

Pure and headless — fed rows from snapshots by the monitor, which owns the one stateful `Analyzer`; the UI
only displays what comes out (row severities, derived fields, `Snapshot.alerts`).

Modules: `settings` (validation helpers, baseline/alert settings), `baseline` (robust EWMA), `drift` (KS
distance), `cost` (price table, daily spend), `feedback` (ratings), `rules` (rules as data, instant
verdicts), `messages` (alert text, field nouns), `configure` (config sections and the built-in rules →
`AnalysisSettings`), `engine` (`Analyzer`, alert lifecycle), `thresholds` (cell thresholds). Every field,
derived ones included, is declared in `aitop.fields`.
"""
