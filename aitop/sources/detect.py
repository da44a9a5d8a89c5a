"""Is a target a Prometheus-compatible server or a /metrics page? Ask it.

A URL ending in `/metrics` is scraped without a probe. Anything else is asked for
`/api/v1/status/buildinfo` (Prometheus, Thanos, Mimir and VictoriaMetrics answer it, under a path prefix
too), then for a trivial query; a server that answers either is queried with PromQL, anything else is
scraped (at `/metrics` when the URL has no path).
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from aitop.sanitize import clean
from aitop.transport import HttpSettings, httpx_client


class DetectionError(Exception):
    """The target could not be reached to tell its kind; the message is safe to show."""


@dataclass(frozen=True, slots=True)
class Detected:
    kind: str  # scrape | prometheus
    url: str  # the /metrics URL, or the server's base URL (with any path prefix)
    backend: str | None = None  # "Prometheus 2.42.0" when known


def scrape_url(url: str) -> str:
    parsed = httpx.URL(url)
    return str(parsed.copy_with(path="/metrics")) if parsed.path in ("", "/") else url


def _looks_like_metrics_path(url: str) -> bool:
    return httpx.URL(url).path.rstrip("/").endswith("/metrics")


async def _ask(client: httpx.AsyncClient, url: str, path: str, params: dict | None = None) -> dict | None:
    response = await client.get(url.rstrip("/") + path, params=params)
    if response.status_code != 200 or "json" not in response.headers.get("content-type", ""):
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) and body.get("status") == "success" else None


async def detect(
    url: str, *, kind: str, http: HttpSettings, timeout: float, transport: httpx.AsyncBaseTransport | None = None
) -> Detected:
    """The kind of `url`: as forced by `kind` ("scrape"/"prometheus"), else by asking the server."""
    if kind == "scrape" or (kind == "auto" and _looks_like_metrics_path(url)):
        return Detected("scrape", scrape_url(url))
    async with httpx_client(http, timeout=timeout, headers={"User-Agent": "aitop"}, transport=transport) as client:
        try:
            info = await _ask(client, url, "/api/v1/status/buildinfo")
            if info is None:
                info = await _ask(client, url, "/api/v1/query", {"query": "vector(1)"})
        except httpx.HTTPError as exc:
            if kind == "prometheus":
                return Detected("prometheus", url.rstrip("/"))
            raise DetectionError(
                f"cannot reach {clean(httpx.URL(url).host)} to tell whether it is a Prometheus server or a "
                f"/metrics page ({type(exc).__name__}); pass --prometheus or --scrape"
            ) from None
    if info is None:
        if kind == "prometheus":
            return Detected("prometheus", url.rstrip("/"))
        return Detected("scrape", scrape_url(url))
    data = info.get("data")
    version = data.get("version") if isinstance(data, dict) else None
    backend = f"Prometheus-compatible {clean(version, 40)}" if version else "Prometheus-compatible"
    return Detected("prometheus", url.rstrip("/"), backend)
