"""Reading Prometheus answers: rows from query vectors, failures into safe messages (alerts: prom_alerts).

Everything a server sends is untrusted: label values, warnings, error strings and alert annotations pass
`clean()` before they reach the model, and messages are built from status codes and `errorType`, never
from exception text that could carry a URL with credentials.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import replace
from functools import partial

import requests

from aitop.accumulator import INSTANCE, absent_reasons, group_of
from aitop.catalog import Schema
from aitop.derive import INDEX, Accumulator, finish_row
from aitop.explanations import default_lines, with_lines
from aitop.gcpolicy import paused_gc
from aitop.gpus import join_gpus, places_of
from aitop.model import Missing, Row
from aitop.sanitize import clean
from aitop.sources.prometheus.alerts import alerts_from  # noqa: F401 - re-exported for the collector
from aitop.sources.prometheus.lines import Answer, answer_of, server_lines
from aitop.sources.prometheus.promql import Query, SchemaPlan
from aitop.sources.prometheus.reading import reads
from aitop.transport import HTTPS_HINT, retry_after_seconds, speaks_https
from aitop.why import with_why

MAX_ERROR_CHARS = 2000
_NO_LABELS: Mapping[str, str] = {}


class QueryFailure(Exception):
    """A failed request, described safely.

    `transient`: worth retrying soon (a query the server rejects is not). `backoff`: retrying hurts or
    cannot help yet — an overloaded or starting server, a timeout, refused credentials — so wait longer
    each time (or as long as `retry_after` says). A refused connection is transient without back-off:
    nothing is listening, trying again costs nobody anything, and a restarted server is seen at once.
    """

    def __init__(
        self, message: str, *, transient: bool = True, backoff: bool = True, retry_after: float | None = None,
        kind: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        #: What the server said about the query ("limit", "timeout") or "tls"; "" otherwise. A server that
        #: answers "limit" or "timeout" is up: only the query failed.
        self.kind = kind
        self.transient = transient
        self.backoff = backoff
        self.retry_after = retry_after

    def __str__(self) -> str:
        return self.message


def _retry_after(response: requests.Response) -> float | None:
    return retry_after_seconds(response.headers.get("Retry-After", ""))


def _api_error(response: requests.Response) -> tuple[str, str]:
    try:
        body = response.json()
    except ValueError:
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    # The whole cause: VictoriaMetrics states it some 400 characters into its message.
    return clean(body.get("errorType", ""), 40), clean(body.get("error", ""), MAX_ERROR_CHARS)


def describe_failure(exc: Exception, response: requests.Response | None, timeout: float) -> QueryFailure:
    """What went wrong with one request, as a safe message with a retry policy."""
    if isinstance(exc, QueryFailure):
        return exc
    if response is None and isinstance(exc, requests.TooManyRedirects):
        response = exc.response
    if response is not None and response.status_code != 200:
        status = response.status_code
        error_type, error = _api_error(response)
        if speaks_https(status, response.content or b""):
            https = "https://" + clean(requests.utils.urlparse(response.url or "").netloc, 80)
            return QueryFailure(f"{HTTPS_HINT.removesuffix('https://')}{https} (HTTP {status} to plain http://)",
                                transient=False)
        lowered = error.lower()
        if error_type == "timeout" or (status in (400, 422, 503) and ("timed out" in lowered
                                                                      or "deadline exceeded" in lowered)):
            # Prometheus answers 503 errorType=timeout past --query.timeout: the server is up, the query
            # too heavy for it. Retried with back-off, like any transient failure.
            return QueryFailure(f"query timed out on the server (timeout: {error or status})", kind="timeout",
                                retry_after=_retry_after(response))
        if status in (400, 422):
            return QueryFailure(f"query rejected ({error_type or status}): {error}".rstrip(": "), transient=False)
        if status == 503:
            stopping = response.headers.get("X-Prometheus-Stopping")
            if stopping is not None:
                state = "shutting down" if stopping == "true" else "starting up"
                return QueryFailure(f"Prometheus is {state} (HTTP 503)", retry_after=_retry_after(response))
        if status == 429:
            return QueryFailure("rate limited by the server (HTTP 429)", retry_after=_retry_after(response))
        if status in (401, 403):
            return QueryFailure(f"not authorised (HTTP {status}): check the token, password or --tenant")
        if status == 404:
            return QueryFailure("no Prometheus API here (HTTP 404): is the path prefix right, e.g. /prometheus?")
        if 300 <= status < 400:
            where = clean(requests.utils.urlparse(response.headers.get("Location", "")).path or "/", 60)
            return QueryFailure(f"HTTP {status} redirect to {where} (a login page? aitop does not follow redirects)")
        detail = f" ({error_type}: {error})" if error_type else ""
        return QueryFailure(f"HTTP {status} {clean(response.reason or '', 40)}{detail}".strip(),
                            retry_after=_retry_after(response))
    if isinstance(exc, requests.Timeout | TimeoutError):
        return QueryFailure(f"no answer within {timeout:g}s")
    if isinstance(exc, requests.ConnectionError):
        return QueryFailure("cannot connect (connection refused or reset)", backoff=False)
    if isinstance(exc, ValueError | KeyError | TypeError):  # 200 with something that is not the API's JSON
        return QueryFailure("not a Prometheus API response (a proxy or login page?)")
    return QueryFailure(f"request failed ({type(exc).__name__})")


_REASONS = {"limit": Missing.LIMIT, "timeout": Missing.TIMEOUT, "tls": Missing.TLS}


def failure_reason(error: Exception) -> Missing:
    """The missing reason a failed query gives its fields: a limit, a timeout, TLS, or a query error."""
    return _REASONS.get(getattr(error, "kind", ""), Missing.QUERY_ERROR)


def response_warnings(response: requests.Response | None) -> list[str]:
    """Warnings, infos and VictoriaMetrics' isPartial flag of one answer."""
    if response is None:
        return []
    cached = _NOTES.get(response)  # a batch's one response is every query's
    if cached is None:
        cached = _NOTES[response] = _notes(response)
    return list(cached)


#: The notes of each response still alive (parsed once however many queries one batch answered).
_NOTES: weakref.WeakKeyDictionary[requests.Response, list[str]] = weakref.WeakKeyDictionary()


def _notes(response: requests.Response) -> list[str]:
    content = response.content
    if b'"warnings"' not in content and b'"infos"' not in content and b'"isPartial"' not in content:
        return []
    try:
        body = json.loads(content)
    except ValueError:
        return []
    return _notes_of(body)


def _notes_of(body: Mapping) -> list[str]:
    notes = [clean(w, 160) for w in body.get("warnings") or []]
    notes += [f"info: {clean(i, 160)}" for i in body.get("infos") or []]
    if body.get("isPartial"):
        notes.append("partial response: some storage nodes did not answer")
    return notes


def note_answer(response: requests.Response, body: Mapping) -> None:
    """Keep the notes of a response whose body the caller decoded already (a batch's): `response_warnings`
    then reads them from there, never scanning and decoding megabytes of answer a second time."""
    _NOTES[response] = _notes_of(body)


def fields_of(query: Query) -> tuple[str, ...]:
    """The fields a query's answer fills (for every reading of its expression)."""
    fields: dict[str, None] = {}
    for reading in query.readings():
        if reading.kind == "unbounded":  # only explains an empty quantile: its failure empties no field
            continue
        fields.update(dict.fromkeys((reading.field,) if reading.field
                                    else INDEX.concept_fields.get(reading.concept, ())))
    return tuple(fields)


def assemble_rows(
    plans: Iterable[SchemaPlan],
    answered: Mapping[Query, tuple[list, requests.Response | None]],
    errored: Mapping[Query, Exception],
    group_by: str | None,
    data_since: Mapping[tuple[str, str], float] | None = None,
) -> tuple[list[Row], list[str]]:
    """Rows from the answered queries of one refresh, and the server's warnings (deduplicated).
    `data_since`: row key -> its `Row.data_since` (`aitop.sources.prometheus.since.data_since_of`)."""
    with paused_gc():  # thousands of accumulators and rows, none in a cycle
        return _assemble(list(plans), answered, errored, group_by, data_since or {})


def _assemble(
    plans: list[SchemaPlan],
    answered: Mapping[Query, tuple[list, requests.Response | None]],
    errored: Mapping[Query, Exception],
    group_by: str | None,
    data_since: Mapping[tuple[str, str], float],
) -> tuple[list[Row], list[str]]:
    schemas = {plan.schema.name: plan.schema for plan in plans}
    absent = {name: _absent(schema) for name, schema in schemas.items()}  # shared by the schema's rows, read only
    rows: dict[tuple[str, str], Accumulator] = {}
    warnings: list[str] = []
    #: row -> the answers that explain its fields, in reading order (their lines are made when read)
    answers: dict[tuple[str, str], list[Answer]] = {}
    names: dict[str, str] = {}  # label value -> row name, cleaned once per refresh
    by_value: dict[tuple[str, str | None], dict[str, tuple[Accumulator, list[Answer]]]] = {}
    readings = [(reading, answer) for query, answer in answered.items() for reading in query.readings()]
    places: dict[tuple[str, str], set[str]] = {}
    for query, (result, _) in readings:
        if query.kind == "places":  # where rows run, for the GPU join: never a row of its own
            for series in result:
                labels = series.get("metric", {})
                key = (query.schema, group_of(labels, query.group_labels, labels.get(INSTANCE), group_by, names)[1])
                places.setdefault(key, set()).update(places_of(labels, labels.get("instance")))
    readings = [(query, answer) for query, answer in readings if query.kind != "places"]
    for query, (result, response) in readings:
        warnings.extend(w for w in response_warnings(response) if w not in warnings)
        schema = schemas.get(query.schema)
        own_labels = schema.group_labels if schema is not None else ()
        # The same for every series of the answer: made once per query, not once per series (1,000 rows ×
        # 15 queries is 15,000 series a refresh).
        answer = answer_of(query, len(result))
        group_labels, row_absent = query.group_labels, absent.get(query.schema, {})
        read = reads(query)
        # By model label (no `g`), a series holding the query's first group label belongs to the row that
        # value names (`group_of`): its row is found by that value alone, from the second query on. (A row
        # found so already has a model label of the schema as its group label: it was named by one.)
        first = group_labels[0] if group_by is None and group_labels else None
        named = by_value.setdefault((query.schema, first), {})

        def locate(series: Mapping, group_labels: tuple[str, ...] = group_labels, name: str = query.schema,
                   row_absent: Mapping[str, str] = row_absent, own_labels: tuple[str, ...] = own_labels,
                   first: str | None = first, named: dict = named) -> tuple[Accumulator, list[Answer]]:
            """The row of a series not found by its first label's value (and its answers)."""
            labels = series.get("metric", _NO_LABELS)
            label, group = group_of(labels, group_labels, labels.get(INSTANCE), group_by, names)
            key = (name, group)
            acc = rows.get(key)
            if acc is None:
                acc = rows[key] = Accumulator.fresh(label, row_absent)
            elif label in own_labels and acc.group_label not in own_labels:
                acc.group_label = label
            found = (acc, answers.setdefault(key, []))
            if first is not None and label == first and (value := labels.get(first)):
                named[value] = found  # (the row and its answers, found without a key's hash)
            return found

        if first is None:
            found = [locate(series) for series in result]
        else:
            found = [named.get(series.get("metric", _NO_LABELS).get(first)) or locate(series) for series in result]
        read(query, found, result)
        if answer is not None:
            for _, explaining in found:
                if not explaining or explaining[-1] is not answer:
                    explaining.append(answer)
    exposed = {plan.schema.name: set(plan.chosen) for plan in plans}
    # field -> (its failed query's message, the failure), per schema: the same for every row of the schema
    failures: dict[str, dict[str, tuple[str, Exception]]] = {}
    for query, error in errored.items():
        failures.setdefault(query.schema, {}).update((field, (str(error), error)) for field in fields_of(query))
    no_failures: dict[str, tuple[str, Exception]] = {}
    finished: list[Row] = []
    for key, acc in sorted(rows.items()):
        schema_name, group = key
        if schema_exposed := exposed.get(schema_name):
            acc.exposed |= schema_exposed
        acc.data_since = data_since.get(key)
        if explained := answers.get(key):  # (a row no answer explains has an empty list)
            acc.pending = partial(server_lines, explained)
        row = _sampled_elsewhere(finish_row(schema_name, group, acc), acc)
        if failed := failures.get(schema_name, no_failures):
            missing, lines = dict(row.missing), {}
            for field, (message, error) in failed.items():
                if row.value(field) is None:  # (a field with a value is handled by _unknown_where_failed)
                    missing[field] = failure_reason(error)
                    lines[field] = f"query error: {message}"
            row = replace(row, missing=missing, provenance=with_lines(row.provenance, lines))
        finished.append(row)
    finished = with_why(join_gpus(finished, places))
    for failure in {str(error) for error in errored.values()}:
        if failure not in warnings:
            warnings.append(failure)
    return finished, warnings


def _sampled_elsewhere(row: Row, acc: Accumulator) -> Row:
    """A row whose gauges answered but none of its rates or percentiles, though the server holds their
    metrics, lacks samples, not metrics: its series have fewer than two samples in the window (a window
    under two scrape intervals, or new series). (A row with some rates is left alone: a model without,
    say, token counters simply has no such metric.)"""
    windowed = INDEX.windowed
    if not acc.present.isdisjoint(INDEX.windowed_concepts):
        return row
    fix = [name for name, concept in windowed.items()
           if row.missing.get(name) is Missing.NO_METRIC and concept in acc.exposed and concept not in acc.present]
    if not fix:
        return row
    missing = dict(row.missing)
    for name in fix:
        missing[name] = Missing.NOT_ENOUGH_SAMPLES
    provenance = default_lines(row.provenance, dict.fromkeys(fix, _SAMPLED_ELSEWHERE))
    return replace(row, missing=missing, provenance=provenance)


_SAMPLED_ELSEWHERE = ("the server holds the metric, but no series of this row has two samples in the window (a "
                      "window under two scrape intervals, or new series)")


def _absent(schema: Schema | None) -> dict[str, str]:
    return absent_reasons(schema.title, schema.absent) if schema is not None else {}


def unknown_where_failed(rows: list[Row], errored: Mapping[Query, Exception]) -> list[Row]:
    """A field whose query failed is unknown ("query error"), never a number derived from its absence —
    a failed error query must not read as 0 % errors."""
    failed: dict[str, dict[str, Exception]] = {}
    for query, error in errored.items():
        for field in fields_of(query):
            failed.setdefault(query.schema, {})[field] = error
    if not failed:
        return rows
    out = []
    for row in rows:
        fields = failed.get(row.schema, {})
        known = [field for field in fields if row.values.get(field) is not None]
        if known:
            values, missing, lines = dict(row.values), dict(row.missing), {}
            for field in known:
                values[field] = None
                missing[field] = failure_reason(fields[field])
                lines[field] = f"query error: {fields[field]}"
            errors_by_type = {} if "error_rate" in known else row.errors_by_type
            row = replace(row, values=values, missing=missing, provenance=with_lines(row.provenance, lines),
                          errors_by_type=errors_by_type)
        out.append(row)
    return out


def with_infos(rows: list[Row], answered: Mapping[Query, tuple[list, requests.Response | None]]) -> list[Row]:
    """Attach the server's info annotations to the provenance of the fields they concern (drill-down)."""
    notes: dict[str, dict[str, list[str]]] = {}
    for query, (_, response) in answered.items():
        infos = [w for w in response_warnings(response) if w.startswith("info: ")]
        if infos:
            for field in fields_of(query):
                notes.setdefault(query.schema, {}).setdefault(field, []).extend(infos)
    if not notes:
        return rows
    out = []
    for row in rows:
        fields = notes.get(row.schema, {})
        marked = {f: lines for f, lines in fields.items() if row.value(f) is not None}
        if marked:
            noted = {field: " — ".join([row.provenance.get(field, ""), *dict.fromkeys(lines)]).lstrip(" —")
                     for field, lines in marked.items()}
            row = replace(row, provenance=with_lines(row.provenance, noted))
        out.append(row)
    return out


def query_label(query: Query) -> str:
    """A query's name in messages: its field (for a quantile) or concept (requests) and schema."""
    return f"{query.schema} {(query.field or query.concept).replace('_', ' ')}"


def capped(query: Query, result: list, limit: int, warnings: list[str]) -> list:
    """At most `limit` series of an answer; more adds a "showing N of M" warning (a server that honours
    `limit=` sends one more than asked, so M is then a lower bound)."""
    if len(result) <= limit:
        return result
    at_least = "≥" if len(result) == limit + 1 else ""
    warnings.append(f"{query_label(query)}: showing {limit:,} of {at_least}{len(result):,} series"
                    " — group by fewer labels or filter")
    return result[:limit]
