"""Prometheus HTTP plumbing: one prometheus-api-client call at a time per worker thread, within bounds.

The library drops a response's `warnings` and headers, so the session it is given carries a response hook
that keeps the latest response per thread: partial-data warnings, `Retry-After` and `X-Prometheus-Stopping`
are read from there. The same hook reads the body itself — capped on the wire and after gunzip, and within a
total deadline — so neither a 100k-series answer, a gzip bomb nor a trickling server can exhaust memory or
hang a thread.
"""

from __future__ import annotations

import json
import threading
import time
import zlib
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3.exceptions
from prometheus_api_client import PrometheusConnect
from urllib3.util.retry import Retry

from aitop.gcpolicy import paused_gc
from aitop.sanitize import clean
from aitop.sources.prometheus.results import QueryFailure, describe_failure, note_answer
from aitop.transport import (
    BoundedInflater,
    HttpSettings,
    TooLarge,
    connect_failure,
    is_dns_failure,
    requests_session,
    tls_failure,
)

AUTH_RETRY_SECONDS = 60.0  # refused credentials or a missing tenant: retry slowly
#: Per response: compressed bytes on the wire, and bytes after gunzip.
MAX_WIRE_BYTES = 8 * 1024 * 1024
MAX_DECODED_BYTES = 32 * 1024 * 1024
_CHUNK = 64 * 1024
_NARROW_HINT = " — narrow the query: a shorter --window, or group by fewer labels"
#: Words of the servers' limit errors: Prometheus `--query.max-samples` ("too many samples"), Thanos/Mimir
#: ("max-chunks", "max-series", "limit"), VictoriaMetrics `-search.maxUniqueTimeseries` ("exceeds …
#: -search.maxUniqueTimeseries"), `-search.maxSamplesPerQuery`.
_LIMIT_WORDS = ("too many samples", "maximum resolution", "too many series", "limit", "max-chunks", "max_chunks",
                "max-series", "-search.max", "exceeds")


class PromHttp:
    """The session and prometheus-api-client of one server, with a per-request total deadline of
    `timeout` × 1.5. `client` is the library's client; call its methods through `call`."""

    def __init__(self, base_url: str, timeout: float, settings: HttpSettings) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self.queries_sent = 0  # every HTTP request, for tests and benchmarks
        self._host = clean(urlsplit(base_url).hostname or "", 80)
        self._local = threading.local()
        self.session = requests_session(settings, base_url)
        self.session.hooks["response"].append(self._remember_response)
        # aitop backs off itself (and honours Retry-After); the library's own retries would hide that.
        self.client = PrometheusConnect(
            url=base_url, session=self.session, retry=Retry(total=0, redirect=0), timeout=timeout
        )

    def _remember_response(self, response: requests.Response, *args, **kwargs) -> None:
        """Session hook, before requests reads the body: keep the response, read the body within bounds."""
        self._local.response = response
        media_type = response.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
        if response.status_code == 200 and media_type in ("text/html", "application/xhtml+xml"):
            response.close()
            raise QueryFailure(f"unexpected HTML from {self._host} — authentication proxy?")
        self._read_body(response)

    def _read_body(self, response: requests.Response) -> None:
        raw = response.raw
        if raw is None or response._content is not False:  # already read (or a test's canned response)
            return
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > MAX_WIRE_BYTES:
            response.close()
            raise QueryFailure(
                f"response too large: {int(declared) // 2**20} MiB exceeds the {MAX_WIRE_BYTES // 2**20} MiB cap")
        encoding = response.headers.get("Content-Encoding", "").strip().lower()
        if encoding in ("", "identity"):
            inflater = None
        elif encoding in ("gzip", "x-gzip", "deflate"):
            inflater = BoundedInflater(encoding, MAX_DECODED_BYTES)
        else:
            response.close()
            raise QueryFailure(f"unsupported Content-Encoding {clean(encoding, 30)}")
        deadline = getattr(self._local, "deadline", None)
        chunks: list[bytes] = []
        wire = decoded = 0
        try:
            while True:
                # read1: whatever one receive brings, so the deadline is checked however slowly bytes trickle
                # (stream()/read(n) would block until n bytes arrived).
                chunk = raw.read1(_CHUNK, decode_content=False)
                if not chunk:
                    break
                wire += len(chunk)
                if wire > MAX_WIRE_BYTES:
                    raise QueryFailure(f"response too large: exceeds the {MAX_WIRE_BYTES // 2**20} MiB cap")
                if inflater is not None:
                    chunks.extend(inflater.feed(chunk))
                else:
                    decoded += len(chunk)
                    if decoded > MAX_DECODED_BYTES:
                        raise TooLarge(decoded)
                    chunks.append(chunk)
                if deadline is not None and time.monotonic() > deadline:
                    raise QueryFailure(f"no complete answer within {self.timeout * 1.5:g}s")
            if inflater is not None:
                chunks.append(inflater.flush())
        except TooLarge:
            chunks.clear()
            response.close()
            raise QueryFailure(
                f"response too large: decoded body exceeds the {MAX_DECODED_BYTES // 2**20} MiB cap"
            ) from None
        except QueryFailure:
            chunks.clear()
            response.close()
            raise
        except urllib3.exceptions.ReadTimeoutError:
            response.close()
            raise QueryFailure(f"no answer within {self.timeout:g}s") from None
        except (urllib3.exceptions.HTTPError, OSError, zlib.error):
            response.close()
            raise QueryFailure("connection broken mid-response (answer incomplete)") from None
        response._content = b"".join(chunks)
        response._content_consumed = True
        response.close()

    def _failure(self, exc: Exception, response: requests.Response | None) -> QueryFailure:
        """`describe_failure`, plus what Prometheus mode knows better: DNS, auth, tenants, narrowing hints."""
        if isinstance(exc, QueryFailure):
            return exc
        if response is None and isinstance(exc, requests.ConnectionError):
            reason = getattr(exc.args[0], "reason", None) if exc.args else None
            if isinstance(reason, urllib3.exceptions.ReadTimeoutError):  # requests reports it as ConnectionError
                return QueryFailure(f"no answer within {self.timeout:g}s")
            if is_dns_failure(exc):
                return QueryFailure(f"DNS lookup failed for {self._host}")
            if (tls := tls_failure(exc)) is not None:  # before the refused/reset test: it is neither
                return QueryFailure(tls, kind="tls", retry_after=AUTH_RETRY_SECONDS)
            cause = connect_failure(exc)
            if cause in ("connection refused", "connection reset"):
                return QueryFailure(f"cannot connect: {cause}", backoff=False)
        failure = describe_failure(exc, response, self.timeout)
        if response is None or response.status_code == 200:
            return failure
        status = response.status_code
        if status in (401, 403):
            body = (response.content or b"")[:512].decode("utf-8", "replace").lower()
            if "no org id" in body or "tenant" in body and "missing" in body:
                message = f"missing tenant (set --tenant): the server answered HTTP {status} 'no org id'"
            else:
                message = f"authentication failed: {failure.message}"
            return QueryFailure(message, retry_after=AUTH_RETRY_SECONDS)
        if status in (400, 422) and not failure.kind:
            text = failure.message.lower()
            if any(word in text for word in _LIMIT_WORDS):
                cause = failure.message.removeprefix("query rejected ")
                return QueryFailure(f"query rejected by a server limit {cause}{_NARROW_HINT}", transient=False,
                                    kind="limit")
        return failure

    def call(self, function: Callable, *args, **kwargs):
        """Run one library call (blocking: from a worker thread); returns (result, its response or None).

        Raises `QueryFailure` for every failure, classified from what was received."""
        self._local.response = None
        self._local.deadline = time.monotonic() + self.timeout * 1.5
        self.queries_sent += 1
        try:
            result = function(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 — every failure is classified from what was received
            raise self._failure(exc, getattr(self._local, "response", None)) from None
        return result, getattr(self._local, "response", None)

    def post_query(self, expr: str, params: dict) -> list:
        """An instant query sent by POST (a batch is kilobytes of PromQL: no URL to percent-encode); its
        result vector. Blocking, through `call` like the library's methods."""
        response = self.session.post(f"{self.base_url.rstrip('/')}/api/v1/query", data={"query": expr, **params},
                                     timeout=self.timeout)
        if response.status_code != 200:
            raise ValueError(f"HTTP {response.status_code}")  # `call` classifies it from the response
        with paused_gc():  # 20,000 series decode into as many small dicts, none in a cycle
            body = _decoded(response)
        if body.get("status") != "success":
            raise ValueError("not a success")
        note_answer(response, body)
        return body["data"]["result"]

    def close(self) -> None:
        self.session.close()


def _decoded(response: requests.Response) -> Any:
    """`response.json()`, from the bytes: a UTF-8 answer (what a server sends, said or not) is decoded by
    `json.loads` itself rather than made a str first (2.3 MB of batch answer at 1,000 rows: 34 -> 32 ms).
    Anything else, or bytes that are not UTF-8, is left to `requests` as before."""
    if (response.encoding or "utf-8").lower() in _UTF8:
        try:
            return json.loads(response.content)
        except UnicodeDecodeError:
            pass
    return response.json()


_UTF8 = frozenset({"utf-8", "utf8"})
