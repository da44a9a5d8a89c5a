"""HTTP settings shared by both sources: auth, tenant, extra headers, TLS, proxies.

Follows the Prometheus ecosystem's conventions (promtool/amtool `--http.config.file` fields): bearer token
or basic auth from files or env, `X-Scope-OrgID` for multi-tenant backends (Mimir, Cortex, Thanos receive),
a CA file, and an explicit, always-visible opt-out of certificate checks. Proxies come from the standard
`HTTP(S)_PROXY` / `NO_PROXY` variables. Redirects are not followed: custom headers (tenant, API keys) would
be replayed to another origin, and a 302 to a login page is better reported than followed.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import requests
import requests.auth

from aitop.secret import Secret

TENANT_HEADER = "X-Scope-OrgID"


@dataclass(frozen=True, slots=True)
class HttpSettings:
    """How to reach targets. Every credential is a `Secret`."""

    bearer_token: Secret | None = None
    basic_user: str | None = None
    basic_password: Secret | None = None
    headers: tuple[tuple[str, Secret], ...] = ()  # values may be API keys: treated as secrets
    tenant: str | None = None
    ca_file: str | None = None
    insecure_skip_verify: bool = False

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
        elif self.basic_user is not None:
            password = self.basic_password.reveal() if self.basic_password is not None else ""
            token = base64.b64encode(f"{self.basic_user}:{password}".encode()).decode()
            yield "Authorization", f"Basic {token}"
        if self.tenant:
            yield TENANT_HEADER, self.tenant
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
) -> httpx.AsyncClient:
    """An async client with the settings applied (proxies from the environment)."""
    return httpx.AsyncClient(
        transport=transport,
        auth=_HttpxAuth(settings),
        verify=settings.verify,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 3.0)),
        follow_redirects=False,
        headers=headers,
        trust_env=True,
    )


def requests_session(settings: HttpSettings) -> requests.Session:
    """A requests session for prometheus-api-client with the settings applied."""
    session = requests.Session()
    session.verify = settings.verify
    session.auth = RequestsAuth(settings)
    session.max_redirects = 0
    session.headers["User-Agent"] = "aitop"
    return session
