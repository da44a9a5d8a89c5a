"""Target normalisation and validation."""

import pytest

from aitop.config import ConfigError, build_config, normalize_target


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("localhost:8000", "http://localhost:8000"),
        ("http://h:9/", "http://h:9"),
        ("http://h:9/prometheus/", "http://h:9/prometheus/"),
        ("https://h/custom/metrics", "https://h/custom/metrics"),
    ],
)
def test_normalize(raw, expected):
    assert normalize_target(raw) == expected


@pytest.mark.parametrize("raw", ["ftp://h/x", "http://user:secret@h:9/metrics", "http://"])
def test_refused(raw):
    with pytest.raises(ConfigError) as caught:
        normalize_target(raw)
    assert "secret" not in str(caught.value)


def test_env_fallback_order():
    env = {"PROMETHEUS_URL": "p:9090", "AITOP_URL": "a:1"}
    assert build_config([], environ=env).targets == ("http://a:1",)
    assert build_config([], environ={"PROMETHEUS_URL": "p:9090"}).targets == ("http://p:9090",)
    assert build_config(["x:1"], environ=env).targets == ("http://x:1",)


@pytest.mark.parametrize("kwargs", [{"interval": 0.1}, {"window": 0}, {"timeout": float("nan")}])
def test_bad_numbers(kwargs):
    with pytest.raises(ConfigError):
        build_config(["x:1"], environ={}, **kwargs)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("5m", 300), ("1h30m", 5400), ("500ms", 0.5), ("2", 2), ("0.25", 0.25), ("1d", 86400)],
)
def test_durations(text, seconds):
    from aitop.config import parse_duration

    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "s", "5 minutes", "-", "3x"])
def test_bad_durations(text):
    from aitop.config import parse_duration

    with pytest.raises(ConfigError, match="not a duration"):
        parse_duration(text)
