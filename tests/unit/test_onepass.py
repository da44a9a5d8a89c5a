"""A page read in one pass (`onepass.read_plain`) gives exactly what the two-pass path gives.

`read_page` tries the one-pass reader first and falls back to the pre-filter + parser when it declines.
Every case here is read by `read_page` as it is (cold, then warm from an earlier scrape of another page,
then warm from itself) and with the one-pass reader switched off: samples (down to the sign of zero),
notes, duplicates and error messages must be identical, under series caps too.
"""

import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "data"))
from pages import ALL, read, scaled  # noqa: E402

from aitop.catalog import NameFilter, builtin_schemas
from aitop.sources.scrape import exposition, onepass, page
from aitop.sources.scrape.exposition import ExpositionError, SeriesKeys
from aitop.sources.scrape.page import MAX_LABEL_VALUE, read_page

WANTED = NameFilter(builtin_schemas())
TEXT = "text/plain; version=0.0.4"
M = 'vllm:num_requests_running{model_name="m"}'
C = 'vllm:request_success{model_name="m"}'
H = "vllm:e2e_request_latency_seconds"


def outcome(body: str, keys: SeriesKeys, cap: int = 20_000, content_type: str = TEXT) -> tuple:
    try:
        samples, notes, duplicates = read_page(body, content_type, WANTED, keys, cap)
    except ExpositionError as exc:
        return ("error", str(exc))
    return ("ok", [(key, repr(value)) for key, value in samples.items()], notes, duplicates)


def check(before: str, body: str, monkeypatch, cap: int = 20_000, content_type: str = TEXT) -> tuple:
    """The outcome of `body` read in one pass cold, warm from `before`, warm from itself: all the two-pass one."""
    with monkeypatch.context() as patched:
        patched.setattr(page, "read_plain", lambda *args: None)
        reference = outcome(body, SeriesKeys(), cap, content_type)
    cold = outcome(body, SeriesKeys(), cap, content_type)
    keys = SeriesKeys()
    outcome(before, keys, cap, content_type)
    warm = outcome(body, keys, cap, content_type)
    again = outcome(body, keys, cap, content_type)
    assert cold == warm == again == reference, body
    return reference


@pytest.mark.parametrize("name", ALL)
def test_fixture_pages_read_the_same_in_one_pass(name, monkeypatch):
    text = read(name)
    assert check(text, scaled(text, 3.0), monkeypatch)[0] == "ok"
    for cap in (0, 1, 7, 50):
        check(text, scaled(text, 2.0), monkeypatch, cap)


TAILS = [" 3", " -0", " +0", " -0.0", " 0", " 1e999", " " + "9" * 400, " NaN", " -nan", " +Inf", " 1_000", " 0x10",
         " 1 2", "  3", " 3 ", " 3 1700000000000", "\t3", " 3\t", " 1\t2", "3", " ", " \xa0", " 1\xa0", " 1 -1",
         " 1 # {a=\"b\"} 1", " }", " {x} 1", " 1.5e-3"]


@pytest.mark.parametrize("tail", TAILS)
def test_hostile_lines_of_known_series(tail, monkeypatch):
    clean = f"{M} 1\n# TYPE vllm:request_success counter\n{C} 2\n"
    check(clean, f"{M}{tail}\n# TYPE vllm:request_success counter\n{C}{tail}\n", monkeypatch)
    check(clean, f"{M}{tail}\n# TYPE vllm:request_success counter\n{C}{tail}\n", monkeypatch, cap=1)


CASES = [
    f"# TYPE vllm:request_success gauge\n{C} 2\n",
    f"{C} 2\n",
    f"# TYPE vllm:request_success counter\n{M} 1\n{C} 4\n",
    f"# TYPE vllm:request_success counter\n{C} 4\n# TYPE vllm:request_success counter\n{C} 5\n",
    f"# TYPE vllm:request_success counter\n{C} 4\n{C} 5\n{M} 1\n{M} 2\n",
    f"# HELP vllm:request_success help\n# TYPE vllm:request_success counter\n{C} 1\n",
    f"# TYPE vllm:request_success counter extra\n{C} 4\n",
    f'# TYPE "vllm:request_success" counter\n{C} 4\n',
    f"# TYPE\tvllm:request_success\tcounter\n{C} 4\n",
    f"# UNIT {H} seconds\n# TYPE {H} histogram\n{H}_bucket{{le=\"1\"}} 1\n{H}_count 1\n{H}_sum 0.5\n{H} 3\n",
    f"# EOF\n{M} 1\n",
    f"{M} 1\n# EOF\n",
    "# TYPE _total counter\n_total 1\n",
    '{"vllm:num_requests_running"} 1\n',
    f"{M} 1\n9bad 1\n",
    f"{M} 1\n\n\n{C} 2\n",
    f"node_load1 1\n{M} 1\nnode_load5{{a=\"b\"}} 2\n",
    f'{M[:-1]},model_name="n"}} 1\n',
    f'vllm:num_requests_running{{model_name="{"x" * (MAX_LABEL_VALUE + 5)}"}} 1\n{M} 2\n',
    f'vllm:num_requests_running{{a="{"x" * 600}",b="{"y" * 600}"}} 1\n{M} 2\n',
    f"# HELP vllm:x {'h' * (MAX_LABEL_VALUE + 5)}\n{M} 2\n",
]


@pytest.mark.parametrize("body", CASES)
def test_unusual_pages(body, monkeypatch):
    for cap in (0, 1, 2, 20_000):
        check(f"{M} 1\n# TYPE vllm:request_success counter\n{C} 2\n", body, monkeypatch, cap)
        check(body, body, monkeypatch, cap)


def test_a_line_start_accepted_on_one_page_is_judged_again_on_the_next(monkeypatch):
    assert check('{"vllm:num_requests_running"} 1\n', f"{M} 1\n 1\n", monkeypatch)[0] == "error"
    check(f'{{"vllm:x"}} 1\n{M} 1\n 1\n', f'{{"vllm:x"}} 1\n{M} 1\n 1\n', monkeypatch)


@pytest.mark.parametrize("content_type", ["", "text/plain", "application/octet-stream", "application/openmetrics-text",
                                          "text/html", "text/plain; version=0.0.4; charset=utf-8"])
def test_content_types(content_type, monkeypatch):
    text = read("vllm")
    check(text, scaled(text, 2.0), monkeypatch, content_type=content_type)
    check(text, text.rstrip("\n") + "\n# EOF\n", monkeypatch, content_type=content_type)


def test_random_mutations_and_reorderings(monkeypatch):
    rng = random.Random(29)
    base = read("vllm") + read("mixed_litellm_vllm_node")
    lines = base.splitlines()
    pieces = [" ", "  ", "\t", '"', "\\", "{", "}", ",", "=", "#", "_", "-", "e", "0", "Inf", "\xa0", "__", " 1"]
    for _ in range(120):
        mutated = list(lines)
        for _ in range(rng.randint(1, 3)):
            index = rng.randrange(len(mutated))
            line = mutated[index]
            choice = rng.random()
            if choice < 0.15:  # a line moved elsewhere: its family context changes
                mutated.insert(rng.randrange(len(mutated)), mutated.pop(index))
            elif choice < 0.25:
                mutated.insert(index, line)  # a duplicate line
            else:
                at = rng.randrange(len(line) + 1) if rng.random() < 0.5 else len(line) - rng.randrange(4)
                mutated[index] = line[:at] + rng.choice(pieces) + line[at + rng.choice((0, 0, 1)):]
        check(base, "\n".join(mutated) + "\n", monkeypatch, cap=rng.choice((20_000, 20_000, rng.randint(0, 200))))


def test_a_warm_page_is_read_once_without_the_regex_or_the_name_filter(monkeypatch):
    text = read("vllm")
    keys = SeriesKeys()
    read_page(text, TEXT, WANTED, keys, 20_000)
    calls: list[str] = []
    regex = exposition._PLAIN_SAMPLE

    class Counting:
        def fullmatch(self, line):
            calls.append(line)
            return regex.fullmatch(line)

    def no_second_pass(*args):
        raise AssertionError("the two-pass path ran")

    asked: list[str] = []
    wants = WANTED.wants

    def asking(name):
        asked.append(name)
        return wants(name)

    monkeypatch.setattr(onepass, "_PLAIN_SAMPLE", Counting())
    monkeypatch.setattr(page, "kept_lines_counted", no_second_pass)
    monkeypatch.setattr(WANTED, "wants", asking)
    samples, notes, duplicates = read_page(scaled(text, 2.0), TEXT, WANTED, keys, 20_000)
    assert calls == [] and samples and notes == () and duplicates == 0
    families = {line.split()[2] for line in text.splitlines() if line.startswith(("# TYPE", "# UNIT"))}
    assert set(asked) <= families  # only metadata lines' families: no sample line's name was tested


def test_the_memory_follows_the_latest_pages_and_its_filter(monkeypatch):
    keys = SeriesKeys()
    for scrape in range(40):  # label churn: every scrape, a new model
        body = "".join(f'vllm:num_requests_running{{model_name="m{scrape}-{n}"}} {n}\n' for n in range(100))
        read_page(body, TEXT, WANTED, keys, 20_000)
        assert set(keys.kept) == {line.rpartition(" ")[0] for line in body.splitlines()}  # this page's only
        body = "".join(f'vllm:x_{scrape}_{n} {n}\n' for n in range(100))  # and new metric names
        read_page(body, TEXT, WANTED, keys, 20_000)
        assert len(keys.kept_names) <= 2 * 100 + onepass._SLACK
    other = NameFilter(())
    assert read_page(f"{M} 1\n", TEXT, other, keys, 20_000)[0] == {}  # another filter: nothing known is wanted
    assert keys.kept_for is other and keys.kept == {} and keys.kept_names == {"vllm:num_requests_running": False}


def test_a_warm_scrape_gives_the_same_key_objects_counters_included():
    text = read("vllm")
    keys = SeriesKeys()
    first = read_page(text, TEXT, WANTED, keys, 20_000)[0]
    second = read_page(scaled(text, 2.0), TEXT, WANTED, keys, 20_000)[0]
    assert list(first) == list(second) and any(key[0].endswith("_total") for key in first)
    assert all(a is b for a, b in zip(first, second))  # the store and the incident buffer compare by identity
    for scrape in range(30):  # counters of churning series: the memory of their keys stays bounded
        body = "# TYPE vllm:request_success counter\n" + "".join(
            f'vllm:request_success{{model_name="m{scrape}-{n}"}} {n}\n' for n in range(100))
        read_page(body, TEXT, WANTED, keys, 20_000)
        assert len(keys.kept_totals) == 100
