"""HTTP settings shared by both sources: auth, tenant, extra headers, TLS, proxies.

Follows the Prometheus ecosystem's conventions (promtool/amtool `--http.config.file` fields): bearer token
or basic auth from files or env, `X-Scope-OrgID` for multi-tenant backends (Mimir, Cortex, Thanos receive),
a CA file, and an explicit, always-visible opt-out of certificate checks. Proxies come from the standard
`HTTP(S)_PROXY` / `NO_PROXY` variables. Redirects are not followed: custom headers (tenant, API keys) would
be replayed to another origin, and a 302 to a login page is better reported than followed.
"""

from __future__ import annotations

import base64
import email.utils
import os
import random
import ssl
import time
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import requests
import requests.auth
import requests.utils
import urllib3.exceptions

from aitop.secret import Secret

TENANT_HEADER = "X-Scope-OrgID"
_DNS_ERRORS = ("name or service not known", "temporary failure in name resolution", "nodename nor servname",
               "no address associated", "failed to resolve", "nameresolutionerror", "getaddrinfo failed")


BACKOFF_FIRST, BACKOFF_CAP = 1.0, 30.0
#: Bytes decoded per step: a gzip bomb is stopped with at most this much beyond the cap in memory.
INFLATE_STEP = 256 * 1024


class TooLarge(Exception):
    """A body decoded past its cap."""


class BoundedInflater:
    """gzip / deflate decoding that stops at `limit` decoded bytes, holding at most one step beyond it.

    One 64 KiB gzip chunk can expand to ~67 MB in a single call, so every call is given `max_length` and the
    unconsumed input is fed back step by step."""

    def __init__(self, encoding: str, limit: int, step: int = INFLATE_STEP) -> None:
        self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS if "gzip" in encoding else zlib.MAX_WBITS)
        self.limit, self.step, self.decoded = limit, step, 0

    def feed(self, data: bytes) -> list[bytes]:
        """The decoded pieces of `data`; raises `TooLarge` past the limit."""
        pieces: list[bytes] = []
        while True:
            piece = self._inflater.decompress(data, self.step)
            self.decoded += len(piece)
            if self.decoded > self.limit:
                pieces.clear()  # a traceback kept alive (a failed request's task) must not hold them
                raise TooLarge(self.decoded)
            if piece:
                pieces.append(piece)
            data = self._inflater.unconsumed_tail
            if not data and len(piece) < self.step:
                return pieces

    def flush(self) -> bytes:
        tail = self._inflater.flush()
        self.decoded += len(tail)
        if self.decoded > self.limit:
            raise TooLarge(self.decoded)
        return tail


def backoff_delay(failures: int, *, first: float = BACKOFF_FIRST, cap: float = BACKOFF_CAP) -> float:
    """Seconds to wait after the `failures`-th failure in a row: 1, 2, 4 … capped at 30, each with jitter
    (equal jitter: between half and all of it, so the wait grows yet clients spread out)."""
    ceiling = min(cap, first * 2 ** max(0, failures - 1))
    return random.uniform(ceiling / 2, ceiling)


def retry_after_seconds(value: str, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP date (RFC 9110 §10.2.3), at most
    10 minutes; None when absent or unreadable (the normal back-off applies then)."""
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # an HTTP date is GMT; a zone-less one is read as such
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return min(max(0.0, seconds), 600.0)


def _chain(error: BaseException):
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def connect_failure(error: BaseException) -> str | None:
    """The short cause of a failed connection ("connection refused", "DNS lookup failed", …) found anywhere
    in the exception chain (httpx says only "All connection attempts failed"), or None."""
    if is_dns_failure(error):
        return "DNS lookup failed"
    for cause in _chain(error):
        text = str(cause).lower()
        if isinstance(cause, ConnectionRefusedError) or "connection refused" in text or "errno 111" in text:
            return "connection refused"
        if isinstance(cause, ConnectionResetError) or "connection reset" in text:
            return "connection reset"
        if "no route to host" in text or "host is unreachable" in text:
            return "host unreachable"
        if "network is unreachable" in text:
            return "network unreachable"
    return None


#: What servers answer (HTTP 400) to plain HTTP on a TLS port: Go's net/http (Prometheus, Thanos, Mimir,
#: VictoriaMetrics) and nginx.
_HTTPS_ONLY = (b"http request to an https server", b"plain http request was sent to https port")
HTTPS_HINT = "the server speaks HTTPS; use https://"
#: What to do about a certificate aitop does not trust.
TLS_HINT = "give the server's CA with --ca-file (or --insecure-skip-verify)"


def speaks_https(status: int, body: bytes) -> bool:
    """Whether an answer says plain HTTP was sent to a server that speaks only HTTPS."""
    return status == 400 and any(marker in body[:1024].lower() for marker in _HTTPS_ONLY)


def _causes(error: BaseException):
    """Every exception in `error`'s chain and wrapped in it (requests and urllib3 keep the cause in `args`
    and `.reason`, not in `__cause__`)."""
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending += [e for e in (current.__cause__, current.__context__, getattr(current, "reason", None),
                                *current.args) if isinstance(e, BaseException)]


def tls_failure(error: BaseException) -> str | None:
    """`TLS failure: <why>` when a connection failed in the TLS handshake (a certificate not trusted, with
    what to do about it; a name mismatch; a protocol error), found anywhere in the exception chain; else
    None. The reason is the TLS library's own short text (no URL, no secret in it)."""
    causes = list(_causes(error))
    for cause in causes:
        if isinstance(cause, ssl.SSLCertVerificationError):
            detail = (cause.verify_message or "").strip()[:80] or "verify failed"
            return f"TLS failure: certificate not accepted ({detail}) — {TLS_HINT}"
    for cause in causes:
        if isinstance(cause, ssl.SSLError):
            return f"TLS failure: {str(cause.reason or 'handshake failed')[:60]}"
    for cause in causes:
        text = str(cause)
        if "CERTIFICATE_VERIFY_FAILED" in text:
            return f"TLS failure: certificate not accepted — {TLS_HINT}"
        if "SSLError" in type(cause).__name__:
            return "TLS failure: handshake failed"
    return None


def is_dns_failure(error: BaseException | str) -> bool:
    """Whether an error (or its text, or any exception it was raised from) says a host name did not resolve."""
    if isinstance(error, str):
        return any(marker in error.lower() for marker in _DNS_ERRORS)
    return any(is_dns_failure(f"{type(cause).__name__} {cause}") for cause in _chain(error))


@dataclass(frozen=True, slots=True)
class HttpSettings:
    """How to reach targets. Every credential is a `Secret`."""

    bearer_token: Secret | None = None
    basic_user: str | None = None
    basic_password: Secret | None = None
    headers: tuple[tuple[str, Secret], ...] = ()  # values may be API keys: treated as secrets
    tenant: str | Secret | None = None  # a Secret when read from tenant_file / tenant_env
    ca_file: str | None = None
    insecure_skip_verify: bool = False
    # The basic-auth header's base64 token, held as a Secret so that an echo of it is masked too.
    _basic_token: Secret | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.basic_user is not None:
            password = self.basic_password.reveal() if self.basic_password is not None else ""
            token = base64.b64encode(f"{self.basic_user}:{password}".encode()).decode()
            object.__setattr__(self, "_basic_token", Secret(token))

    @property
    def verify(self) -> bool | str:
        """What both HTTP libraries take for certificate checks: False, a CA bundle path, or True."""
        if self.insecure_skip_verify:
            return False
        return self.ca_file or True

    def _auth_headers(self) -> Iterator[tuple[str, str]]:
        # The one place secrets are revealed: while a request's headers are being built.
        if self.bearer_token is not None:
            yield "Authorization", f"Bearer {self.bearer_token.reveal()}"
        elif self._basic_token is not None:
            yield "Authorization", f"Basic {self._basic_token.reveal()}"
        if self.tenant:
            yield TENANT_HEADER, self.tenant.reveal() if isinstance(self.tenant, Secret) else self.tenant
        for name, value in self.headers:
            yield name, value.reveal()


class _HttpxAuth(httpx.Auth):
    """Adds aitop's headers to each httpx request; holds the settings, never a plain credential."""

    def __init__(self, settings: HttpSettings) -> None:
        self._settings = settings

    def auth_flow(self, request: httpx.Request):
        for name, value in self._settings._auth_headers():
            request.headers[name] = value
        yield request


class RequestsAuth(requests.auth.AuthBase):
    """The same for `requests` (used by prometheus-api-client)."""

    def __init__(self, settings: HttpSettings) -> None:
        self._settings = settings

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        for name, value in self._settings._auth_headers():
            request.headers[name] = value
        return request

    def __repr__(self) -> str:
        return "RequestsAuth(***)"


def httpx_client(
    settings: HttpSettings,
    *,
    timeout: float,
    headers: dict[str, str],
    transport: httpx.AsyncBaseTransport | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> httpx.AsyncClient:
    """An async client with the settings applied (proxies from the environment).

    `ssl_context`: one from `ssl_context(settings)`, shared by clients made often (building one loads the CA
    bundle: ~30 ms)."""
    return httpx.AsyncClient(
        transport=transport,
        auth=_HttpxAuth(settings),
        verify=ssl_context if ssl_context is not None else _context_for(settings),
        timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
        follow_redirects=False,
        headers=headers,
        trust_env=True,
    )


def ssl_context(settings: HttpSettings) -> ssl.SSLContext:
    """The TLS context `settings` ask for (system CAs or the CA file; none when checks are off)."""
    if isinstance(settings.verify, str):  # httpx deprecates a CA path for `verify`: give it the context
        return ssl.create_default_context(cafile=settings.verify)
    return httpx.create_ssl_context(verify=settings.verify, trust_env=True)


_context_for = ssl_context  # (httpx_client's parameter of the same name hides the function there)


def requests_session(settings: HttpSettings, base_url: str) -> requests.Session:
    """A requests session for prometheus-api-client with the settings applied, for the server at `base_url`.

    The environment (`HTTP(S)_PROXY`, `NO_PROXY`, `REQUESTS_CA_BUNDLE`/`CURL_CA_BUNDLE`) is read here, once:
    requests would otherwise walk `os.environ` on every request (~0.4 ms of CPU each, 16 per refresh)."""
    session = requests.Session()
    session.trust_env = False
    session.proxies.update(requests.utils.get_environ_proxies(base_url))
    session.verify = settings.verify
    if settings.insecure_skip_verify:
        # The user asked for it and the screen / JSON say so: urllib3's warning on every request is only noise.
        warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)
    if session.verify is True:
        session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    session.auth = RequestsAuth(settings)
    session.max_redirects = 0
    session.headers["User-Agent"] = "aitop"
    session.headers["Accept-Encoding"] = "gzip"  # decoded by the caller under a size cap, never by urllib3
    return session
