"""A warm parse (series keys from an earlier scrape of the target) gives exactly what a cold one gives.

The warm path replaces the line regex by a slice and a dict lookup for series it accepted before, so every
case here is parsed cold (fresh keys), warm (keys from a clean scrape of the same page), and by the text
parser alone: the three outcomes must be identical, down to the sign of zero and the error message.
"""

import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "data"))
from pages import ALL, read, scaled  # noqa: E402

from aitop.catalog import NameFilter, builtin_schemas
from aitop.sources.scrape import exposition
from aitop.sources.scrape.exposition import ExpositionError, SeriesKeys, parse

WANTED = NameFilter(builtin_schemas())
TEXT = "text/plain; version=0.0.4"
M = 'vllm:num_requests_running{model_name="m"}'
C = 'vllm:request_success{model_name="m"}'


def outcome(body: str, keys: SeriesKeys | None = None) -> tuple:
    try:
        samples = parse(body, TEXT, WANTED, keys).samples
    except ExpositionError as exc:
        return ("error", str(exc))
    return ("ok", [(key, repr(value)) for key, value in samples.items()])  # repr: -0.0 and NaN


def warmed(page: str) -> SeriesKeys:
    keys = SeriesKeys()
    parse(page, TEXT, WANTED, keys)
    return keys


def check(warm_from: str, body: str, monkeypatch) -> tuple:
    cold = outcome(body)
    warm = outcome(body, warmed(warm_from))
    with monkeypatch.context() as patched:
        patched.setattr(exposition, "_parse_plain", lambda lines, keys: None)
        reference = outcome(body)
    assert warm == cold == reference, body
    return warm


@pytest.mark.parametrize("name", ALL)
def test_fixture_pages_parse_the_same_warm_as_cold(name, monkeypatch):
    page = read(name)
    assert check(page, page, monkeypatch)[0] == "ok"
    assert check(page, scaled(page, 3.0), monkeypatch)[0] == "ok"  # the next scrape: new values, same series


# Known series texts followed by what the regex would refuse, read differently, or hand to prometheus_client.
TAILS = [" 3", " -0", " +0", " -0.0", " 0", " 1e999", " " + "9" * 400, " NaN", " -nan", " +Inf", " 1_000", " 0x10",
         " 1 2", "  3", " 3 ", " 3 1700000000000", "\t3", " 3\t", " 1\t2", "3", " ", " \xa0", " 1\xa0", " 1 -1",
         " 1 # {a=\"b\"} 1", " }", " {x} 1", " 1.5e-3"]


@pytest.mark.parametrize("tail", TAILS)
def test_hostile_lines_of_known_series(tail, monkeypatch):
    clean = f"{M} 1\n# TYPE vllm:request_success counter\n{C} 2\n"
    check(clean, f"{M}{tail}\n# TYPE vllm:request_success counter\n{C}{tail}\n", monkeypatch)


def test_known_series_under_another_family_type(monkeypatch):
    # `_total` is added by the family, not the series: the same series text under a gauge TYPE has none.
    clean = f"# TYPE vllm:request_success counter\n{C} 2\n"
    check(clean, f"# TYPE vllm:request_success gauge\n{C} 2\n", monkeypatch)
    check(clean, f"{C} 2\n", monkeypatch)
    check(f"{C} 2\n", clean, monkeypatch)


def test_random_mutations_of_a_warm_page(monkeypatch):
    rng = random.Random(17)
    base = read("vllm")
    lines = base.splitlines()
    pieces = [" ", "  ", "\t", '"', "\\", "{", "}", ",", "=", "#", "_", "-", "e", "0", "Inf", "\xa0", "__", " 1"]
    for _ in range(150):
        mutated = list(lines)
        for _ in range(rng.randint(1, 3)):
            index = rng.randrange(len(mutated))
            line = mutated[index]
            at = rng.randrange(len(line) + 1) if rng.random() < 0.5 else len(line) - rng.randrange(4)
            cut = rng.choice((0, 0, 1))
            mutated[index] = line[:at] + rng.choice(pieces) + line[at + cut:]
        check(base, "\n".join(mutated) + "\n", monkeypatch)


def test_a_warm_scrape_skips_the_line_regex(monkeypatch):
    page = read("vllm")
    keys = warmed(page)
    calls: list[str] = []
    regex = exposition._PLAIN_SAMPLE

    class Counting:
        def fullmatch(self, line):
            calls.append(line)
            return regex.fullmatch(line)

    monkeypatch.setattr(exposition, "_PLAIN_SAMPLE", Counting())
    warm = parse(page, TEXT, WANTED, keys).samples
    assert calls == []
    assert warm == parse(page, TEXT, WANTED).samples and len(calls) == len(warm)  # a cold parse needs it per line


def test_the_series_cap_on_kept_lines_keeps_what_the_text_cap_keeps():
    from aitop.sources.scrape.page import MAX_LABEL_VALUE, _cap_lines, cap_series, read_page

    rng = random.Random(3)
    for _ in range(200):
        kept = [rng.choice(("# TYPE x counter", f"{M} 1", f"{C} 2", "# EOF")) for _ in range(rng.randint(1, 30))]
        limit = rng.randint(0, 20)
        text, count = cap_series("\n".join(kept) + "\n", limit)
        assert _cap_lines(kept, limit) == text.splitlines()
        assert count == sum(1 for line in kept if line[0] != "#")
    long = "x" * (MAX_LABEL_VALUE + 5)
    page = "".join(f'vllm:num_requests_running{{model_name="{long}{n}"}} {n}\n' for n in range(5))
    samples, notes, duplicates = read_page(page, TEXT, WANTED, SeriesKeys(), 3)  # cut values and a cap at once
    assert len(samples) == 3 and notes == ("showing 3 of 5 series (per-target cap)",) and duplicates == 0
    assert all(len(dict(key[1])["model_name"]) < MAX_LABEL_VALUE + 20 for key in samples)
