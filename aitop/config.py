"""Run settings: targets, intervals, windows, auth, rules — validated once, then frozen.

Flags override the environment, which overrides the config file, which overrides defaults. The config file
is TOML: `--config PATH`, else `$AITOP_CONFIG`, else `$AITOP_CONFIG_DIR/config.toml`, else
`config.toml` in platformdirs' user config dir (`~/.config/aitop/` on Linux); `aitop.example.toml` at the
repository root documents every key. Unknown keys and bad values are errors naming the key path. Secrets
are never read from the file itself — only from files or environment variables it names. Targets are
checked here so that every front end gets URLs it can use and never one that carries credentials.
"""

from __future__ import annotations

import math
import os
import re
import stat
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import platformdirs

from aitop.analysis.configure import SECTIONS, AnalysisSettings, parse_analysis
from aitop.analysis.settings import ConfigError, duration, string, table
from aitop.analysis.settings import parse_duration as parse_duration
from aitop.catalog import CatalogError, builtin_schemas, schemas_from_config, with_custom
from aitop.config_columns import KEY as COLUMNS_KEY
from aitop.config_columns import view_columns
from aitop.config_http import INLINE_SECRETS, http_settings, parse_http
from aitop.ops_config import OPS_SECTIONS, OpsSettings, parse_ops
from aitop.engine_config import SECTIONS as ENGINE_SECTIONS
from aitop.engine_config import EngineSettings, parse_engine
from aitop.secret import Secret
from aitop.transport import HttpSettings

DEFAULT_INTERVAL = 2.0
DEFAULT_WINDOW = 30.0
DEFAULT_SNAPSHOT_WINDOW = 10.0
DEFAULT_TIMEOUT = 5.0
MIN_INTERVAL = 0.5
#: Allowed ranges, in seconds: past these a value is a typo (or 1e308), and sleeps and PromQL ranges overflow.
INTERVAL_RANGE = (MIN_INTERVAL, 3600.0)
WINDOW_RANGE = (0.001, 30 * 86400.0)
TIMEOUT_RANGE = (0.001, 600.0)
_RANGES = {"interval": INTERVAL_RANGE, "window": WINDOW_RANGE, "timeout": TIMEOUT_RANGE}
TARGET_ENV_VARS = ("AITOP_URL", "PROMETHEUS_URL")
KINDS = ("auto", "scrape", "prometheus")


CONFIG_ENV_VAR = "AITOP_CONFIG"
CONFIG_DIR_ENV_VAR = "AITOP_CONFIG_DIR"
CONFIG_NAME = "config.toml"


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
    analysis: AnalysisSettings = AnalysisSettings()  # rules, prices, baselines, alert lifecycle, bell
    theme: str | None = None  # TUI theme name; None: the UI's default
    schemas: tuple | None = None  # the catalog with the config file's own schemas; None: the built-in ones
    check_window: float | None = None  # `aitop check` window from the file ([check] window)
    config_file: str | None = None  # the file these settings came from, if any
    recording: str | None = None  # a recording file to replay instead of polling targets
    incidents: bool = True  # the TUI keeps an incident buffer ([incidents] enabled)
    incident_keep: float = 900.0  # seconds it keeps ([incidents] keep)
    at: str | None = None  # `--at`: the instant to evaluate (RFC 3339, unix seconds or -DURATION)
    ops: OpsSettings = OpsSettings()  # SLOs, notifications, Alertmanager, row actions
    columns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # TUI view -> the user's columns
    engine: EngineSettings = EngineSettings()  # goodput targets, GPU host mapping ([goodput], [gpus])


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


def _span(seconds: float) -> str:
    """`seconds` as the shortest exact duration: 30d, 1h, 10m, 0.5s, 1ms."""
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("m", 60.0), ("s", 1.0)):
        if seconds >= size and (seconds / size).is_integer():
            return f"{seconds / size:g}{unit}"
    return f"{seconds * 1000:g}ms" if seconds < 0.1 else f"{seconds:g}s"


def bounded(name: str, value: float, allowed: tuple[float, float]) -> float:
    """`value` if it lies in `allowed` (inclusive), else an error giving the range."""
    low, high = allowed
    if not (math.isfinite(value) and low <= value <= high):  # also rejects NaN
        raise ConfigError(f"{name} must be between {_span(low)} and {_span(high)}, not {value:g}s")
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
    config_file: str | os.PathLike[str] | None = None,
    discover_config: bool = False,
    theme: str | None = None,
) -> Config:
    """Validate flags, falling back to $AITOP_URL, then $PROMETHEUS_URL, then the config file for targets;
    to $AITOP_BEARER_TOKEN and $AITOP_PASSWORD (or the env vars the file names) for credentials.

    `config_file` reads that TOML file; `discover_config` looks for one ($AITOP_CONFIG, $AITOP_CONFIG_DIR,
    the user config dir) — off by default, so a library caller never picks up a user's file by surprise.
    """
    env = os.environ if environ is None else environ
    path = find_config_file(config_file, env) if config_file is not None or discover_config else None
    file = load_config_file(path, env) if path is not None else FileSettings()
    if kind == "auto" and file.kind is not None:  # "auto" is also the flag's default: the file may narrow it
        kind = file.kind
    if kind not in KINDS:
        raise ConfigError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    warnings: list[str] = list(file.notes)
    http = http_settings(
        env, warnings, file,
        token_file=bearer_token_file or file.bearer_token_file,
        user=basic_auth_user or file.basic_auth_user,
        password_file=basic_auth_password_file or file.basic_auth_password_file,
        headers=headers,
        tenant=tenant or file.tenant,
        ca_file=ca_file or file.ca_file,
        insecure=insecure_skip_verify or bool(file.insecure_skip_verify),
    )  # fmt: skip
    chosen = list(targets)
    if not chosen:
        for name in TARGET_ENV_VARS:
            if env.get(name, "").strip():
                chosen = [url for url in re.split(r"[\s,]+", env[name]) if url]  # "a,b" and "a b" alike
                break
    if not chosen:
        chosen = list(file.targets)
    return Config(
        targets=tuple(dict.fromkeys(normalize_target(target) for target in chosen)),
        interval=bounded("--interval", _first(interval, file.interval, DEFAULT_INTERVAL), INTERVAL_RANGE),
        window=bounded("--window", _first(window, file.window, DEFAULT_WINDOW), WINDOW_RANGE),
        timeout=bounded("--timeout", _first(timeout, file.timeout, DEFAULT_TIMEOUT), TIMEOUT_RANGE),
        kind=kind,
        http=http,
        warnings=tuple(warnings),
        analysis=file.analysis,
        theme=theme or file.theme,
        schemas=with_custom(file.schemas) if file.schemas else None,
        check_window=file.check_window,
        incidents=file.incidents if file.incidents is not None else True,
        incident_keep=file.incident_keep if file.incident_keep is not None else 900.0,
        config_file=str(path) if path is not None else None,
        ops=file.ops,
        columns=file.columns,
        engine=file.engine,
    )


def _first(*values: float | None) -> float:
    return next(value for value in values if value is not None)


# -- the config file -----------------------------------------------------------------------------------

TOP_KEYS = frozenset(
    {"targets", "kind", "interval", "window", "timeout", "theme", "http", "check", "schema", "incidents", COLUMNS_KEY}
) | SECTIONS | OPS_SECTIONS | ENGINE_SECTIONS
@dataclass(frozen=True, slots=True)
class FileSettings:
    """What a config file says, validated; None where it says nothing."""

    targets: tuple[str, ...] = ()
    kind: str | None = None
    interval: float | None = None
    window: float | None = None
    timeout: float | None = None
    theme: str | None = None
    check_window: float | None = None
    incidents: bool | None = None  # [incidents] enabled
    incident_keep: float | None = None  # [incidents] keep
    schemas: tuple = ()  # users' in-house schemas ([[schema]] tables, the catalog files' shape)
    bearer_token_file: str | None = None
    bearer_token_env: str | None = None
    basic_auth_user: str | None = None
    basic_auth_password_file: str | None = None
    basic_auth_password_env: str | None = None
    tenant: str | None = None
    tenant_file: str | None = None
    tenant_env: str | None = None
    ca_file: str | None = None
    insecure_skip_verify: bool | None = None
    headers: tuple[tuple[str, Secret], ...] = ()
    analysis: AnalysisSettings = field(default_factory=AnalysisSettings)
    notes: tuple[str, ...] = ()
    ops: OpsSettings = OpsSettings()
    columns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # [columns]: view -> its columns
    engine: EngineSettings = field(default_factory=EngineSettings)


def default_config_path() -> Path:
    """`config.toml` in the user config dir (`~/.config/aitop/`, or under $XDG_CONFIG_HOME)."""
    return Path(platformdirs.user_config_dir("aitop")) / CONFIG_NAME


def writable_config_path(config_file: str | None, env: Mapping[str, str]) -> Path:
    """Where the TUI saves what the user chose (a view's columns): the file the settings came from, else
    `config.toml` in $AITOP_CONFIG_DIR, else in the user config dir."""
    if config_file:
        return Path(config_file)
    if env.get(CONFIG_DIR_ENV_VAR, "").strip():
        return Path(env[CONFIG_DIR_ENV_VAR].strip()).expanduser() / CONFIG_NAME
    return default_config_path()


def find_config_file(explicit: str | os.PathLike[str] | None, env: Mapping[str, str]) -> Path | None:
    """The config file to read: a named one must exist; the default locations are optional."""
    named = [(explicit, "--config")] if explicit else []
    if env.get(CONFIG_ENV_VAR, "").strip():
        named.append((env[CONFIG_ENV_VAR].strip(), f"${CONFIG_ENV_VAR}"))
    for path, source in named[:1]:
        file = Path(path).expanduser()
        if not file.is_file():
            raise ConfigError(f"{source} {file}: no such file")
        return file
    if env.get(CONFIG_DIR_ENV_VAR, "").strip():
        candidate = Path(env[CONFIG_DIR_ENV_VAR].strip()).expanduser() / CONFIG_NAME
    else:
        candidate = default_config_path()
    return candidate if candidate.is_file() else None


def load_config_file(path: str | os.PathLike[str], env: Mapping[str, str] | None = None) -> FileSettings:
    """Read and validate one TOML config file. Errors start with the file name and the key path."""
    file = Path(path).expanduser()
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
        mode = file.stat().st_mode
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise ConfigError(f"cannot read {file}: {reason}") from None
    try:
        settings = _parse_file(raw, file.parent, os.environ if env is None else env)
    except ConfigError as exc:
        raise ConfigError(f"{file}: {exc}") from None
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        # Whoever can edit it can point aitop's credentials at their own server.
        settings = replace(settings, notes=(*settings.notes, f"{file} is writable by other users (chmod go-w {file})"))
    if mode & (stat.S_IRGRP | stat.S_IROTH) and _inline_header_values(raw):
        # Header values written in the file are sent like credentials (API keys): keep the file private.
        settings = replace(settings, notes=(*settings.notes, f"{file} holds header values and is readable by other "
                                                             f"users (chmod 600 {file})"))
    return settings


def _inline_header_values(raw: Mapping[str, Any]) -> bool:
    http = raw.get("http")
    headers = http.get("headers") if isinstance(http, dict) else None
    return isinstance(headers, dict) and any(isinstance(value, str) for value in headers.values())


def _parse_file(raw: Mapping[str, Any], base: Path, env: Mapping[str, str]) -> FileSettings:
    unknown = sorted(set(raw) - TOP_KEYS)
    if unknown:
        hint = f"; secrets go in {INLINE_SECRETS[unknown[0]]} under [http]" if unknown[0] in INLINE_SECRETS else ""
        raise ConfigError(f"{unknown[0]}: unknown key{hint} (known: {', '.join(sorted(TOP_KEYS))})")
    values: dict[str, Any] = {}
    if "targets" in raw:
        targets = raw["targets"]
        if isinstance(targets, str):
            targets = [targets]
        if not isinstance(targets, list):
            raise ConfigError("targets: expected a list of URLs")
        values["targets"] = tuple(string(f"targets[{i}]", target) for i, target in enumerate(targets))
        for i, target in enumerate(values["targets"]):
            try:
                normalize_target(target)
            except ConfigError as exc:
                raise ConfigError(f"targets[{i}]: {exc}") from None
    if "kind" in raw:
        values["kind"] = string("kind", raw["kind"])
        if values["kind"] not in KINDS:
            raise ConfigError(f"kind: one of {', '.join(KINDS)}, not {values['kind'][:20]!r}")
    for key in ("interval", "window", "timeout"):
        if key in raw:
            values[key] = bounded(key, duration(key, raw[key], allow_zero=False, maximum=math.inf), _RANGES[key])
    if "theme" in raw:
        values["theme"] = string("theme", raw["theme"])
    if "schema" in raw:
        try:
            values["schemas"] = schemas_from_config(raw["schema"], "", known=[s.name for s in builtin_schemas()])
        except CatalogError as exc:
            raise ConfigError(str(exc).removeprefix(": ")) from None
    if "check" in raw:
        check = table("check", raw["check"], frozenset({"window"}))
        if "window" in check:
            seconds = duration("check.window", check["window"], allow_zero=False, maximum=math.inf)
            values["check_window"] = bounded("check.window", seconds, WINDOW_RANGE)
    if "incidents" in raw:
        incidents = table("incidents", raw["incidents"], frozenset({"enabled", "keep"}))
        if "enabled" in incidents:
            if not isinstance(incidents["enabled"], bool):
                raise ConfigError("incidents.enabled: expected true or false")
            values["incidents"] = incidents["enabled"]
        if "keep" in incidents:
            seconds = duration("incidents.keep", incidents["keep"], allow_zero=False, maximum=math.inf)
            values["incident_keep"] = bounded("incidents.keep", seconds, (60.0, 6 * 3600.0))
    values["columns"] = view_columns(raw)
    http_notes: list[str] = []
    if "http" in raw:
        values.update(parse_http(raw["http"], base, env, http_notes))
    analysis, notes = parse_analysis(raw)
    return FileSettings(**values, analysis=analysis, notes=(*notes, *http_notes), ops=parse_ops(raw),
                        engine=parse_engine(raw))
