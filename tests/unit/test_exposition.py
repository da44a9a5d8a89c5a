"""Pre-filter and parsing, good and hostile input."""

import pytest

from aitop.catalog import NameFilter, builtin_schemas
from aitop.sources.scrape.exposition import ExpositionError, parse, prefilter

WANTED = NameFilter(builtin_schemas())
TEXT = """# HELP vllm:request_success_total Count.
# TYPE vllm:request_success_total counter
vllm:request_success_total{finished_reason="stop",model_name="m"} 5.0
# TYPE vllm:request_success_created gauge
vllm:request_success_created{finished_reason="stop",model_name="m"} 1.7e9
# TYPE node_cpu_seconds_total counter
node_cpu_seconds_total{cpu="0",mode="idle"} 123
# TYPE vllm:e2e_request_latency_seconds histogram
vllm:e2e_request_latency_seconds_bucket{le="1.0",model_name="m"} 1
vllm:e2e_request_latency_seconds_bucket{le="+Inf",model_name="m"} 2
vllm:e2e_request_latency_seconds_count{model_name="m"} 2
vllm:e2e_request_latency_seconds_sum{model_name="m"} 3.5
"""
OPENMETRICS = """# TYPE vllm:request_success counter
vllm:request_success_total{finished_reason="stop",model_name="m"} 5.0 # {trace_id="abc"} 1.0 1700000000.5
vllm:request_success_created{finished_reason="stop",model_name="m"} 1.7e9
# TYPE other_thing gauge
other_thing 1
# EOF
"""


def test_prefilter_drops_unwanted_families_and_help():
    filtered, total, kept = prefilter(TEXT, WANTED)
    assert "node_cpu" not in filtered and "HELP" not in filtered
    assert total == 12 and kept == 9


def test_text_parse_keys_by_sample_name():
    samples = parse(TEXT, "text/plain; version=0.0.4", WANTED).samples
    assert samples[("vllm:request_success_total", (("finished_reason", "stop"), ("model_name", "m")))] == 5
    assert samples[("vllm:e2e_request_latency_seconds_bucket", (("le", "+Inf"), ("model_name", "m")))] == 2
    assert not any(name.startswith("node_") for name, _ in samples)


def test_openmetrics_parsed_with_its_own_parser_exemplar_not_a_timestamp():
    samples = parse(OPENMETRICS, "application/openmetrics-text; version=1.0.0", WANTED).samples
    assert samples[("vllm:request_success_total", (("finished_reason", "stop"), ("model_name", "m")))] == 5.0
    assert ("vllm:request_success_created", (("finished_reason", "stop"), ("model_name", "m"))) in samples


@pytest.mark.parametrize(
    "body",
    [
        'vllm:request_success_total{a="1", ="1"} 1\n',  # IndexError in the classic parser
        "vllm:request_success_total{model_name=\"m\" 1\n",
        "vllm:request_success_total not-a-number\n",
    ],
)
def test_malformed_text_raises_only_exposition_error(body):
    with pytest.raises(ExpositionError) as caught:
        parse(body, "text/plain", WANTED)
    assert "\x1b" not in str(caught.value)


def test_malformed_openmetrics_raises_exposition_error():
    body = "# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running 0 .5\nvllm:num_requests_running 0 1\n# EOF\n"
    with pytest.raises(ExpositionError):
        parse(body, "application/openmetrics-text", WANTED)


def test_html_login_page_is_named_not_parsed():
    with pytest.raises(ExpositionError, match="not a metrics page"):
        parse("<html>login</html>", "text/html; charset=utf-8", WANTED)


def test_bom_and_crlf_are_tolerated():
    body = "\ufeffvllm:num_requests_running{model_name=\"m\"} 3\r\n"
    samples = parse(body, "text/plain", WANTED).samples
    assert samples == {("vllm:num_requests_running", (("model_name", "m"),)): 3.0}


def test_hostile_label_values_survive_parsing_verbatim_for_the_sanitiser():
    body = 'llm_requests_total{model="\\u001b]0;x",status="[/]"} 1\n'
    samples = parse(body, "text/plain", WANTED).samples
    assert len(samples) == 1


def test_large_irrelevant_page_is_mostly_skipped():
    noise = "".join(f'node_thing{{i="{i}"}} {i}\n' for i in range(20000))
    parsed = parse(noise + TEXT, "text/plain", WANTED)
    assert parsed.lines_kept == 9 and len(parsed.samples) == 6
