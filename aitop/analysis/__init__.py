"""Judging rows: thresholds now; baselines, drift and the alert engine build on the same snapshots."""
