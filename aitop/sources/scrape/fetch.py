"""Fetching one /metrics page within bounds, and describing what went wrong without leaking anything.

Bodies are capped on the wire and after decompression: gzip is decoded here with `max_length`, because one
64 KiB gzip chunk can expand to tens of MB before a per-chunk check fires. Every failure becomes a short
message built from known parts — never an exception string that might carry a URL with credentials.

Each fault and the test that injects it: docs/failure-modes.md.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import httpx

from aitop.sanitize import clean
from aitop.transport import (
    HTTPS_HINT,
    BoundedInflater,
    TooLarge,
    connect_failure,
    retry_after_seconds,
    speaks_https,
    tls_failure,
)

#: Only the classic text format: prometheus_client answers OpenMetrics whenever the Accept header names it
#: (whatever its q), and then escapes `vllm:` to `vllm_`. OpenMetrics is still parsed if a server sends it.
ACCEPT = "text/plain;version=0.0.4"
MAX_WIRE_BYTES = 16 * 1024 * 1024
MAX_DECODED_BYTES = 64 * 1024 * 1024
#: Refused credentials are not retried sooner than this.
AUTH_RETRY_SECONDS = 60.0


class ScrapeError(Exception):
    """A scrape failed; the message is safe to show (no URL, no secret, control characters escaped).

    `retry_after`: do not scrape this target again for that many seconds (refused credentials, 429)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


async def fetch_page(client: httpx.AsyncClient, url: str, on_headers: Callable[[], None]) -> tuple[str, str]:
    """GET `url`: its decoded body and Content-Type. Raises `ScrapeError` for an answer that is no page.

    `on_headers` is called when the headers arrive: exporters render the page before sending them, so their
    arrival dates the values better than the request start does (a first scrape also pays for the TCP
    connect, which skewed a 3 s rate by 0.8 % against Prometheus when the second scrape reused it).
    """
    async with client.stream("GET", url) as response:
        on_headers()
        if response.status_code != 200:
            head = b""
            if response.status_code == 400:  # a few bytes to tell "plain HTTP sent to an HTTPS port"
                async for chunk in response.aiter_raw(1024):
                    head = chunk
                    break
            raise status_error(response, head)
        media_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media_type in ("text/html", "application/xhtml+xml"):
            host = clean(httpx.URL(url).host, 60)
            raise ScrapeError(f"unexpected HTML from {host} — authentication proxy? (not a metrics page)")
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_WIRE_BYTES:
            raise ScrapeError(
                f"response too large: {int(declared) // 1024 // 1024} MiB exceeds the {_mib(MAX_WIRE_BYTES)} cap"
            )
        body = await _read_capped(response, _decoder(response.headers.get("content-encoding", "")))
        return body.decode("utf-8", errors="replace"), response.headers.get("content-type", "")


async def _read_capped(response: httpx.Response, inflater: BoundedInflater | None) -> bytes:
    chunks: list[bytes] = []
    wire = decoded = 0
    try:
        async for chunk in response.aiter_raw():
            wire += len(chunk)
            if wire > MAX_WIRE_BYTES:
                raise ScrapeError(f"response too large: exceeds the {_mib(MAX_WIRE_BYTES)} cap")
            if inflater is not None:
                chunks.extend(inflater.feed(chunk))
                continue
            decoded += len(chunk)
            if decoded > MAX_DECODED_BYTES:
                raise TooLarge(decoded)
            chunks.append(chunk)
        if inflater is not None:
            chunks.append(inflater.flush())
    except TooLarge:
        chunks.clear()
        raise ScrapeError(f"response too large: decoded body exceeds the {_mib(MAX_DECODED_BYTES)} cap") from None
    except zlib.error:
        raise ScrapeError("corrupt gzip body") from None
    return b"".join(chunks)


def _decoder(encoding: str) -> BoundedInflater | None:
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip", "deflate"):
        return BoundedInflater(encoding, MAX_DECODED_BYTES)
    raise ScrapeError(f"unsupported Content-Encoding {clean(encoding, 30)}")


def status_error(response: httpx.Response, head: bytes = b"") -> ScrapeError:
    """The error for a non-200 answer, with when to try again (refused credentials, 429, Retry-After).
    `head`: the body's first bytes, when read."""
    status = response.status_code
    if speaks_https(status, head):
        https = str(response.url.copy_with(scheme="https")) if response.url.scheme == "http" else ""
        return ScrapeError(f"{HTTPS_HINT.removesuffix('https://')}{clean(https, 120) or 'https://'} "
                           f"(HTTP {status} to plain http://)")
    message = f"HTTP {status} {clean(response.reason_phrase, 40)}".rstrip()
    if status in (401, 403):
        return ScrapeError(f"authentication failed ({message}): check the token or password; "
                           f"retrying in {AUTH_RETRY_SECONDS:g}s", retry_after=AUTH_RETRY_SECONDS)
    if response.is_redirect:
        target = httpx.URL(response.headers.get("location", ""))
        message += f" to {clean(target.path or '/', 60)} (a login page? aitop does not follow redirects)"
    retry_after = retry_after_seconds(response.headers.get("retry-after", ""))
    if status == 429:
        return ScrapeError(f"rate limited ({message})" + (f"; retrying in {retry_after:g}s" if retry_after else ""),
                           retry_after=retry_after)
    return ScrapeError(message, retry_after=retry_after)


def describe_failure(exc: Exception, timeout: float, host: str = "") -> str:
    """A transport failure in a few safe words (never the exception's text, which can hold the URL)."""
    if isinstance(exc, httpx.ConnectTimeout):
        return "connect timed out"
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return f"no answer within {timeout:g}s"
    if isinstance(exc, httpx.ConnectError) and tls_failure(exc):
        return str(tls_failure(exc))
    if isinstance(exc, httpx.ConnectError):
        reason = connect_failure(exc)
        if reason == "DNS lookup failed":
            return f"DNS lookup failed for {clean(host, 60)}" if host else reason
        reason = reason or str(exc).split("]")[-1].strip() or "connection failed"
        return f"cannot connect: {clean(reason, 60)}"
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        return "connection broken mid-response"
    if isinstance(exc, httpx.TransportError):
        return f"transport error ({type(exc).__name__})"
    return f"scrape failed ({type(exc).__name__})"


def _mib(size: int) -> str:
    return f"{size / 1024 / 1024:g} MiB"
