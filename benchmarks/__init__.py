"""aitop's performance suite (issue 8): `python -m benchmarks [--quick] [--only 1,2,...]`.

Not part of the test run (pytest collects only `tests/`). Each module measures one item of the issue and
returns `report.Figure`s; `__main__` runs them in order and prints one table.
"""
