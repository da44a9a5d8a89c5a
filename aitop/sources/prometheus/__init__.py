"""Prometheus mode: PromQL over HTTP to a Prometheus-compatible server (Prometheus, Mimir, Thanos,
VictoriaMetrics), batched per schema, answers read into rows."""
