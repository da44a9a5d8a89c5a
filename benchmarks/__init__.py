"""aitop's performance suite (issue 8): `python -m benchmarks [--quick] [--only 1,2,...] [--soak-refreshes N]`.

Not part of the test run (pytest collects only `tests/`). Each module measures one item of the issue and
returns `report.Figure`s, each beside a baseline measured in the same run; `__main__` runs them in order
(item 5's soak in the background from the start, collected last) and prints one table.
"""
