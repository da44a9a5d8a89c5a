"""The `[http]` part of the settings: credentials, extra headers, tenant and TLS, from flags, env and file.

Secrets are never read from the command line or from the config file itself — only from files or
environment variables they name (a flag is visible to every user in `ps`). A credential header given with
`--header` is refused with a pointer to the config file's `{ file = … }` / `{ env = … }` forms.
"""

from __future__ import annotations

import os
import re
import ssl
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from aitop.analysis.settings import ConfigError, boolean, string, table
from aitop.secret import MIN_MASKED_LENGTH, Secret, SecretFileError, check_value, read_secret_file
from aitop.transport import HttpSettings

TOKEN_ENV_VAR = "AITOP_BEARER_TOKEN"
PASSWORD_ENV_VAR = "AITOP_PASSWORD"

HTTP_KEYS = frozenset({
    "bearer_token_file", "bearer_token_env", "basic_auth_user", "basic_auth_password_file",
    "basic_auth_password_env", "tenant", "tenant_file", "tenant_env", "ca_file", "insecure_skip_verify",
    "headers",
})  # fmt: skip
#: Keys people try for inline secrets: refused with a pointer to the file / env alternative.
INLINE_SECRETS = {
    "bearer_token": "bearer_token_file or bearer_token_env",
    "token": "bearer_token_file or bearer_token_env",
    "password": "basic_auth_password_file or basic_auth_password_env",
    "basic_auth_password": "basic_auth_password_file or basic_auth_password_env",
}
#: A plain-string header value in the file is refused when its name suggests a credential.
_SECRET_HEADER_WORDS = ("auth", "key", "token", "secret", "cookie", "password", "session")
#: Header names refused on the command line: Authorization, Cookie, *-Token, *Api-Key* (any case).
_CREDENTIAL_HEADER = re.compile(r"^(proxy-)?authorization$|^(set-)?cookie$|(^|[-_])token$|api[-_]?key", re.IGNORECASE)


def path_in(base: Path, where: str, value: object) -> str:
    """A file path from the config: `~` expanded, relative paths taken from the config file's folder."""
    path = Path(string(where, value)).expanduser()
    return str(path if path.is_absolute() else base / path)


def env_name(where: str, value: object) -> str:
    """The name of an environment variable (letters, digits, underscores)."""
    name = string(where, value).strip()
    if not name or not name.replace("_", "a").isalnum():
        raise ConfigError(f"{where}: the name of an environment variable, not {name[:40]!r}")
    return name


def _short(secret: Secret, where: str, warnings: list[str]) -> Secret:
    if not secret.maskable:
        warnings.append(f"{where} is shorter than {MIN_MASKED_LENGTH} characters: aitop cannot mask it in what "
                        "it prints if a server echoes it back")
    return secret


def _from_file(file: str, where: str, warnings: list[str]) -> Secret:
    try:
        secret, warning = read_secret_file(file)
    except SecretFileError as exc:
        raise ConfigError(f"{where}: {exc}" if where else str(exc)) from None
    if warning:
        warnings.append(warning)
    return _short(secret, file, warnings)


def from_named_env(where: str, variable: str, env: Mapping[str, str], warnings: list[str] | None = None) -> Secret:
    """The secret in `$variable`; an error naming `where` when it is unset, empty or not one line."""
    value = env.get(variable, "").strip()
    if not value:
        raise ConfigError(f"{where}: ${variable} is not set or empty")
    problem = check_value(value, f"${variable}")
    if problem:
        raise ConfigError(f"{where}: {problem}")
    return _short(Secret(value), f"${variable}", [] if warnings is None else warnings)


def _secret_from(file: str | None, env: Mapping[str, str], variable: str, warnings: list[str]) -> Secret | None:
    if file:
        return _from_file(file, "", warnings)
    if not env.get(variable, "").strip():
        return None
    return from_named_env(variable, variable, env, warnings)


def refuse_credential_header(name: str) -> None:
    """A credential header on the command line is refused: `ps` shows it to every user of the machine."""
    if _CREDENTIAL_HEADER.search(name):
        alternative = " (or --bearer-token-file)" if name.lower() == "authorization" else ""
        raise ConfigError(
            f"--header {name}: credentials on the command line are visible to every user in `ps`; put it in the "
            f"config file instead: [http.headers] {name} = {{ file = \"PATH\" }} or {{ env = \"VAR\" }}{alternative}"
        )


def check_ca_file(ca_file: str) -> str:
    """The CA bundle's path, `~` expanded, once it is known to hold at least one PEM certificate."""
    path = os.path.expanduser(ca_file)
    if not os.path.isfile(path):
        raise ConfigError(f"--ca-file {ca_file}: no such file")
    try:
        ssl.create_default_context(cafile=path)
    except ssl.SSLError:
        raise ConfigError(f"--ca-file {ca_file}: no PEM certificate in it (empty, or a private key rather than "
                          "the CA certificate?)") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"--ca-file {ca_file}: cannot read it ({type(exc).__name__})") from None
    return path


def http_settings(env: Mapping[str, str], warnings: list[str], file: Any, *, token_file: str | None,
                  user: str | None, password_file: str | None, headers: Sequence[str], tenant: str | None,
                  ca_file: str | None, insecure: bool) -> HttpSettings:  # fmt: skip
    """Flags over environment over the file (`file`: the config file's `FileSettings`)."""
    parsed_headers = dict(file.headers)
    for header in headers:  # flags win over the file for the same header name
        name, separator, value = header.partition(":")
        if not separator or not name.strip() or any(c in name for c in " \t\r\n") or "\n" in value or "\r" in value:
            raise ConfigError("--header takes 'Name: value'")  # never quote it: it may hold a credential
        refuse_credential_header(name.strip())
        for known in [key for key in parsed_headers if key.lower() == name.strip().lower()]:
            del parsed_headers[known]
        parsed_headers[name.strip()] = Secret(value.strip())
    if token_file is None and file.bearer_token_env:
        token: Secret | None = from_named_env("http.bearer_token_env", file.bearer_token_env, env, warnings)
    else:
        token = _secret_from(token_file, env, TOKEN_ENV_VAR, warnings)
    password = None
    if user:
        if password_file is None and file.basic_auth_password_env:
            password = from_named_env("http.basic_auth_password_env", file.basic_auth_password_env, env, warnings)
        else:
            password = _secret_from(password_file, env, PASSWORD_ENV_VAR, warnings)
        if password is None:  # an empty password would be sent, and the 401 would not say why
            raise ConfigError(f"basic auth user {user[:40]!r} has no password: give --basic-auth-password-file, "
                              f"${PASSWORD_ENV_VAR}, or http.basic_auth_password_file / _env in the config file")
    if token is not None and user:
        raise ConfigError("give either a bearer token or basic auth, not both")
    tenant_value: str | Secret | None = tenant or None
    if tenant_value is None and file.tenant_file:
        tenant_value = _from_file(file.tenant_file, "http.tenant_file", warnings)
    elif tenant_value is None and file.tenant_env:
        tenant_value = from_named_env("http.tenant_env", file.tenant_env, env, warnings)
    return HttpSettings(
        bearer_token=token,
        basic_user=user,
        basic_password=password,
        headers=tuple(parsed_headers.items()),
        tenant=tenant_value,
        ca_file=check_ca_file(ca_file) if ca_file else None,
        insecure_skip_verify=insecure,
    )


def _header_value(where: str, name: str, value: object, base: Path, env: Mapping[str, str],
                  notes: list[str]) -> Secret:  # fmt: skip
    if isinstance(value, str):
        if any(word in name.lower() for word in _SECRET_HEADER_WORDS):
            raise ConfigError(f"{where}: looks like a credential; give {{ env = \"VAR\" }} or {{ file = \"PATH\" }}")
        return Secret(value)
    ref = table(where, value, frozenset({"env", "file"}))
    if len(ref) != 1:
        raise ConfigError(f"{where}: give exactly one of env or file")
    if "env" in ref:
        return from_named_env(f"{where}.env", env_name(f"{where}.env", ref["env"]), env, notes)
    return _from_file(path_in(base, f"{where}.file", ref["file"]), f"{where}.file", notes)


def parse_http(raw: object, base: Path, env: Mapping[str, str], notes: list[str]) -> dict[str, Any]:
    """The `[http]` table's values, keyed like `FileSettings`; warnings about secret files go to `notes`."""
    data = table("http", raw)
    unknown = sorted(set(data) - HTTP_KEYS)
    if unknown:
        hint = f"; use {INLINE_SECRETS[unknown[0]]}" if unknown[0] in INLINE_SECRETS else ""
        raise ConfigError(f"http.{unknown[0]}: unknown key{hint} (known: {', '.join(sorted(HTTP_KEYS))})")
    values: dict[str, Any] = {}
    for key in ("bearer_token_file", "basic_auth_password_file", "tenant_file", "ca_file"):
        if key in data:
            values[key] = path_in(base, f"http.{key}", data[key])
    for key in ("bearer_token_env", "basic_auth_password_env", "tenant_env"):
        if key in data:
            values[key] = env_name(f"http.{key}", data[key])
    for key in ("basic_auth_user", "tenant"):
        if key in data:
            values[key] = string(f"http.{key}", data[key])
    if sum(key in data for key in ("tenant", "tenant_file", "tenant_env")) > 1:
        raise ConfigError("http: give one of tenant, tenant_file or tenant_env")
    if "insecure_skip_verify" in data:
        values["insecure_skip_verify"] = boolean("http.insecure_skip_verify", data["insecure_skip_verify"])
    if "headers" in data:
        values["headers"] = tuple(
            (name, _header_value(f"http.headers.{name}", name, value, base, env, notes))
            for name, value in table("http.headers", data["headers"]).items()
        )
    return values
