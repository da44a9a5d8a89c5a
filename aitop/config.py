"""Run settings: targets, intervals, windows — validated once, then frozen.

Flags override the environment, which overrides defaults. Targets are checked here so that every front end
gets URLs it can use and never one that carries credentials.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import httpx

from aitop.secret import Secret, SecretFileError, read_secret_file
from aitop.transport import HttpSettings

DEFAULT_INTERVAL = 2.0
DEFAULT_WINDOW = 30.0
DEFAULT_SNAPSHOT_WINDOW = 10.0
DEFAULT_TIMEOUT = 5.0
MIN_INTERVAL = 0.5
TARGET_ENV_VARS = ("AITOP_URL", "PROMETHEUS_URL")
TOKEN_ENV_VAR = "AITOP_BEARER_TOKEN"
PASSWORD_ENV_VAR = "AITOP_PASSWORD"
KINDS = ("auto", "scrape", "prometheus")


class ConfigError(ValueError):
    """A setting is unusable; the message says which and why, and is safe to print."""


_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)(ms|s|m|h|d|w))+")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")


def parse_duration(text: str) -> float:
    """Seconds in a Prometheus-style duration (`500ms`, `30s`, `5m`, `1h30m`) or a bare number of seconds."""
    value = text.strip()
    try:
        return float(value)
    except ValueError:
        pass
    if not _DURATION.fullmatch(value):
        raise ConfigError(f"not a duration: {value[:40]!r} (use e.g. 30s, 5m, 1h30m or a number of seconds)")
    return sum(float(number) * _DURATION_UNITS[unit] for number, unit in _DURATION_PART.findall(value))


@dataclass(frozen=True, slots=True)
class Config:
    """Everything a run needs to know, already validated."""

    targets: tuple[str, ...]
    interval: float = DEFAULT_INTERVAL
    window: float = DEFAULT_WINDOW
    timeout: float = DEFAULT_TIMEOUT
    kind: str = "auto"  # auto | scrape | prometheus
    http: HttpSettings = HttpSettings()
    warnings: tuple[str, ...] = ()  # things the user should know, e.g. a token file others can read


def normalize_target(raw: str) -> str:
    """A usable URL: scheme defaulted to http, credentials refused. (Whether it is a Prometheus server or a
    /metrics page is decided later, by asking it.)"""
    text = raw.strip()
    if "://" not in text:
        text = "http://" + text
    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, ValueError):
        raise ConfigError(f"not a URL: {text[:80]!r}") from None
    if url.scheme not in ("http", "https"):
        raise ConfigError(f"unsupported scheme {url.scheme!r} (use http or https)")
    if not url.host:
        raise ConfigError(f"no host in {text[:80]!r}")
    if url.userinfo:
        # Credentials on the command line are visible in `ps` and end up in error messages.
        raise ConfigError(f"credentials in URLs are not accepted: remove the user:password@ part of {url.host}")
    return str(url).rstrip("/") if url.path in ("", "/") else str(url)


def positive(name: str, value: float, minimum: float = 0.0) -> float:
    if not value > minimum:  # also rejects NaN
        raise ConfigError(f"{name} must be greater than {minimum:g}, not {value!r}")
    return value


def build_config(
    targets: Sequence[str],
    *,
    interval: float | None = None,
    window: float | None = None,
    timeout: float | None = None,
    kind: str = "auto",
    bearer_token_file: str | None = None,
    basic_auth_user: str | None = None,
    basic_auth_password_file: str | None = None,
    headers: Sequence[str] = (),
    tenant: str | None = None,
    ca_file: str | None = None,
    insecure_skip_verify: bool = False,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Validate flags (falling back to $AITOP_URL, then $PROMETHEUS_URL, for targets; to
    $AITOP_BEARER_TOKEN and $AITOP_PASSWORD for credentials)."""
    env = os.environ if environ is None else environ
    if kind not in KINDS:
        raise ConfigError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    warnings: list[str] = []
    http = _http_settings(
        env, warnings, bearer_token_file, basic_auth_user, basic_auth_password_file, headers, tenant, ca_file,
        insecure_skip_verify,
    )
    chosen = list(targets)
    if not chosen:
        for name in TARGET_ENV_VARS:
            if env.get(name, "").strip():
                chosen = env[name].split()
                break
    return Config(
        targets=tuple(dict.fromkeys(normalize_target(target) for target in chosen)),
        interval=positive("--interval", interval if interval is not None else DEFAULT_INTERVAL, MIN_INTERVAL - 1e-9),
        window=positive("--window", window if window is not None else DEFAULT_WINDOW),
        timeout=positive("--timeout", timeout if timeout is not None else DEFAULT_TIMEOUT),
        kind=kind,
        http=http,
        warnings=tuple(warnings),
    )


def _secret_from(file: str | None, env: Mapping[str, str], variable: str, warnings: list[str]) -> Secret | None:
    if file:
        try:
            secret, warning = read_secret_file(file)
        except SecretFileError as exc:
            raise ConfigError(str(exc)) from None
        if warning:
            warnings.append(warning)
        return secret
    value = env.get(variable, "").strip()
    return Secret(value) if value else None


def _http_settings(env, warnings, token_file, user, password_file, headers, tenant, ca_file, insecure) -> HttpSettings:
    parsed_headers = []
    for header in headers:
        name, separator, value = header.partition(":")
        if not separator or not name.strip() or any(c in name for c in " \t\r\n") or "\n" in value or "\r" in value:
            raise ConfigError(f"--header takes 'Name: value', not {header.split(':')[0][:40]!r}…")
        parsed_headers.append((name.strip(), Secret(value.strip())))
    if ca_file and not os.path.isfile(os.path.expanduser(ca_file)):
        raise ConfigError(f"--ca-file {ca_file}: no such file")
    token = _secret_from(token_file, env, TOKEN_ENV_VAR, warnings)
    password = _secret_from(password_file, env, PASSWORD_ENV_VAR, warnings) if user else None
    if token is not None and user:
        raise ConfigError("give either a bearer token or basic auth, not both")
    return HttpSettings(
        bearer_token=token,
        basic_user=user,
        basic_password=password,
        headers=tuple(parsed_headers),
        tenant=tenant or None,
        ca_file=os.path.expanduser(ca_file) if ca_file else None,
        insecure_skip_verify=insecure,
    )
