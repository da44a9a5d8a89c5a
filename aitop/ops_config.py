"""The config file's operations sections — `[[slo]]`, `[[notify]]`, `[alertmanager]`, `[[action]]` —
validated into `OpsSettings`. Errors name the key path (`slo[0].objective`)."""

from __future__ import annotations

import getpass
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aitop.actions import RowAction, parse_actions
from aitop.analysis.settings import ConfigError, duration, string, table
from aitop.notify import NotifyTarget, parse_notify
from aitop.slo.spec import SLO, parse_slos

OPS_SECTIONS = frozenset({"slo", "notify", "alertmanager", "action"})
ALERTMANAGER_KEYS = frozenset({"url", "author", "silence_duration", "comment"})
DEFAULT_SILENCE = 7200.0


def default_author() -> str:
    """Who a silence is created by when the config does not say: $USER, else the login name."""
    try:
        return os.environ.get("USER") or getpass.getuser()
    except (OSError, KeyError):
        return "aitop"


@dataclass(frozen=True, slots=True)
class OpsSettings:
    """SLOs, notification targets, the Alertmanager and row actions."""

    slos: tuple[SLO, ...] = ()
    notify: tuple[NotifyTarget, ...] = ()
    alertmanager: str | None = None
    silence_author: str | None = None  # None: $USER at the time of the silence
    silence_seconds: float = DEFAULT_SILENCE
    silence_comment: str = "silenced from aitop"
    actions: tuple[RowAction, ...] = ()


def parse_ops(raw: Mapping[str, Any]) -> OpsSettings:
    """The operations sections of a parsed config file (absent ones: defaults)."""
    values: dict[str, Any] = {}
    if "slo" in raw:
        values["slos"] = parse_slos(raw["slo"])
    if "notify" in raw:
        values["notify"] = parse_notify(raw["notify"])
    if "action" in raw:
        values["actions"] = parse_actions(raw["action"])
    if "alertmanager" in raw:
        section = table("alertmanager", raw["alertmanager"], ALERTMANAGER_KEYS)
        if "url" in section:
            url = string("alertmanager.url", section["url"])
            if not url.startswith(("http://", "https://")):
                raise ConfigError("alertmanager.url: an http:// or https:// URL")
            from aitop.config import normalize_target  # (config imports this module)

            try:
                values["alertmanager"] = normalize_target(url)
            except ConfigError as exc:
                raise ConfigError(f"alertmanager.url: {exc}") from None
        if "author" in section:
            values["silence_author"] = string("alertmanager.author", section["author"])
        if "silence_duration" in section:
            values["silence_seconds"] = duration("alertmanager.silence_duration", section["silence_duration"],
                                                 allow_zero=False)
        if "comment" in section:
            values["silence_comment"] = string("alertmanager.comment", section["comment"])
    return OpsSettings(**values)


def attach(monitor, ops: OpsSettings, *, http=None, timeout: float = 5.0, alertmanager: str | None = None) -> None:
    """Give a live `Monitor` its notifier and Alertmanager client, as the settings (or `--alertmanager`) ask."""
    monitor.ops = ops  # silence duration, author and comment; row actions
    monitor.ops_http = (http, timeout)  # how the SLO view asks the server
    if ops.notify:
        from aitop.notify import Notifier

        monitor.notifier = Notifier(ops.notify)
    url = alertmanager or ops.alertmanager
    if url:
        from aitop.sources.prometheus.alertmanager import AlertmanagerClient

        monitor.alertmanager = AlertmanagerClient(url, http=http, timeout=timeout)


def with_alertmanager(config, url: str | None):
    """`config` with `--alertmanager URL` in place of the file's (a URL with credentials is refused)."""
    if not url:
        return config
    from dataclasses import replace

    from aitop.config import normalize_target

    return replace(config, ops=replace(config.ops, alertmanager=normalize_target(url)))
