"""Splitting a batched answer back into each query's answer (pure)."""

from aitop.sources.prometheus.batch import CONCEPT_LABEL, Batch, Batcher, batch_expr, split_answer
from aitop.sources.prometheus.promql import Query

A = Query("llm", "requests", "rate", "sum by (model) (rate(a[1m]))", ("model",))
B = Query("llm", "errors", "errors", "sum by (model) (rate(b[1m]))", ("model",))
C = Query("vllm", "requests", "rate", "sum by (model_name) (rate(c[1m]))", ("model_name",))


def test_batch_expression_tags_every_query_and_joins_with_or() -> None:
    assert batch_expr([A, B]) == (f'label_replace(sum by (model) (rate(a[1m])), "{CONCEPT_LABEL}", "0", "", "") or '
                                  f'label_replace(sum by (model) (rate(b[1m])), "{CONCEPT_LABEL}", "1", "", "")')


def test_split_gives_each_query_its_series_without_the_tag() -> None:
    batch = Batch("llm", batch_expr([A, B]), (A, B))
    answer = [{"metric": {"model": "x", CONCEPT_LABEL: "1"}, "value": [1, "2"]},
              {"metric": {"model": "x", CONCEPT_LABEL: "0"}, "value": [1, "5"]}]
    assert split_answer(batch, answer) == {A: [{"metric": {"model": "x"}, "value": [1, "5"]}],
                                           B: [{"metric": {"model": "x"}, "value": [1, "2"]}]}


def test_a_series_without_a_known_tag_is_not_an_answer() -> None:
    batch = Batch("llm", batch_expr([A, B]), (A, B))
    assert split_answer(batch, [{"metric": {"model": "x"}, "value": [1, "5"]}]) is None
    assert split_answer(batch, [{"metric": {CONCEPT_LABEL: "7"}, "value": [1, "5"]}]) is None


def test_an_answer_splits_the_same_in_runs_or_interleaved() -> None:
    """A server answers each sub-query's series together, but any order splits the same: each query's
    series in the answer's order, untagged; a series without labels (or with null for them) is no answer."""
    batch = Batch("llm", batch_expr([A, B]), (A, B))
    tags = ["0", "0", "1", "0", "1", "1", "0"]
    answer = [{"metric": {"model": f"m{n}", CONCEPT_LABEL: tag}, "value": [1, str(n)]} for n, tag in enumerate(tags)]
    parts = split_answer(batch, answer)
    assert parts is not None
    assert [s["metric"]["model"] for s in parts[A]] == ["m0", "m1", "m3", "m6"]
    assert [s["metric"]["model"] for s in parts[B]] == ["m2", "m4", "m5"]
    assert all(CONCEPT_LABEL not in s["metric"] for s in answer)
    assert split_answer(batch, [{"metric": {"model": "x", CONCEPT_LABEL: "1"}, "value": [1, "5"]}]) == {
        A: [], B: [{"metric": {"model": "x"}, "value": [1, "5"]}]}
    assert split_answer(batch, [{"value": [1, "5"]}]) is None
    assert split_answer(batch, [{"metric": None, "value": [1, "5"]}]) is None


def test_plan_batches_per_schema_and_keeps_failed_queries_alone() -> None:
    batcher = Batcher()
    batches, alone = batcher.plan([A, B, C], 0.0, lambda expr: False)
    assert [b.queries for b in batches] == [(A, B)] and alone == [C]  # one query of a schema needs no batch
    batcher.failed_alone(B, 0.0)
    batches, alone = batcher.plan([A, B], 1.0, lambda expr: False)
    assert batches == [] and set(alone) == {A, B}
    batcher.batch_failed(Batch("llm", "", (A, B)), 1.0)
    batcher.alone_until.clear()
    assert batcher.plan([A, B], 2.0, lambda expr: False)[0] == []  # off for a while after a failed batch
    assert len(batcher.plan([A, B], 1.0 + 301, lambda expr: False)[0]) == 1


def test_an_answer_decodes_as_requests_decodes_it() -> None:
    """The batch's answer is decoded from its bytes where they are UTF-8; otherwise (another charset said,
    bytes that are not UTF-8) `requests` decodes it, as before."""
    import requests

    from aitop.sources.prometheus.http import _decoded

    def answer(content: bytes, encoding: str | None) -> requests.Response:
        response = requests.Response()
        response._content, response.encoding, response.status_code = content, encoding, 200
        return response

    text = '{"status":"success","data":{"result":[{"metric":{"model":"m\u00e9\u4e2d"},"value":[1,"2"]}]}}'
    for content, encoding in [(text.encode(), None), (text.encode(), "utf-8"), (text.encode(), "UTF-8"),
                              (text.encode("latin-1", "replace"), "ISO-8859-1"), (b'{"a":"\xff\xfe"}', "utf-8"),
                              (text.encode("utf-16"), None)]:
        assert _decoded(answer(content, encoding)) == answer(content, encoding).json()
