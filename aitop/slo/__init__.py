"""Service level objectives: error budgets and multi-window, multi-burn-rate judgement.

`spec` holds the `[[slo]]` definitions and the standard window pairs; `burn` turns error ratios per window
into burn rates, budget and verdicts; `measure` reads the ratios from a Prometheus server or from what a
session has recorded; `rules` writes Prometheus recording and alerting rules; `discover` reads the Sloth
and Pyrra rules a server already evaluates.
"""
