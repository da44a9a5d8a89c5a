"""The `[columns]` table: parsed with the rest of the config file, written back one line at a time."""

from __future__ import annotations

import os
import tomllib

import pytest

from aitop.analysis.settings import ConfigError
from aitop.config import load_config_file
from aitop.config_columns import parse_columns, save_view_columns

EXISTING = """# my aitop settings
targets = ["http://prom:9090"]  # production
theme = "aitop-light"

[columns]
# what the CFO reads
cost = ["model", "cost_per_day"]

[[rules]]
name = "error_rate_warning"
enabled = false
"""


def test_a_new_file_gets_the_table(tmp_path):
    path = tmp_path / "aitop" / "config.toml"
    save_view_columns(path, "latency", ["model", "latency_p95", "ttft_p95"])
    assert path.read_text() == '[columns]\nlatency = ["model", "latency_p95", "ttft_p95"]\n'
    assert oct(path.stat().st_mode & 0o777) == oct(0o600)
    assert load_config_file(path).columns == {"latency": ("model", "latency_p95", "ttft_p95")}


def test_an_existing_line_is_replaced_and_everything_else_kept(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(EXISTING)
    os.chmod(path, 0o640)
    save_view_columns(path, "cost", ["model", "cost_per_hour", "cost_per_day"])
    text = path.read_text()
    assert text == EXISTING.replace('cost = ["model", "cost_per_day"]',
                                    'cost = ["model", "cost_per_hour", "cost_per_day"]')  # fmt: skip
    assert oct(path.stat().st_mode & 0o777) == oct(0o640)
    save_view_columns(path, "quality", ["model", "feedback_negative_ratio"])  # a new view: in the same table
    parsed = tomllib.loads(path.read_text())
    assert parsed["columns"] == {"cost": ["model", "cost_per_hour", "cost_per_day"],
                                 "quality": ["model", "feedback_negative_ratio"]}  # fmt: skip
    assert parsed["rules"] == [{"name": "error_rate_warning", "enabled": False}] and "# what the CFO reads" in path.read_text()


def test_a_file_without_the_table_gets_it_at_the_end(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('theme = "aitop-dark"\n[alerts]\nbell = true')
    save_view_columns(path, "cost", ["model", "cost_per_day"])
    assert tomllib.loads(path.read_text()) == {"theme": "aitop-dark", "alerts": {"bell": True},
                                               "columns": {"cost": ["model", "cost_per_day"]}}  # fmt: skip


@pytest.mark.parametrize("text", ['columns = {cost = ["model"]}\n', '[columns]\ncost = [\n  "model",\n]\n',
                                  'columns.cost = ["model"]\n'])  # fmt: skip
def test_layouts_the_writer_cannot_edit_safely_are_refused_untouched(tmp_path, text):
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError):
        save_view_columns(path, "cost", ["model", "cost_per_day"])
    assert path.read_text() == text


def test_names_are_checked():
    with pytest.raises(ConfigError, match="view name"):
        parse_columns({"Cost View": ["model"]})
    with pytest.raises(ConfigError, match="list of column names"):
        parse_columns({"cost": "model"})
    with pytest.raises(ConfigError):
        save_view_columns("/nonexistent/x.toml", "cost", ['model"] evil = ["'])
