"""The [http] settings: credential headers refused on the command line, one-line secrets, basic auth needs a
password, the tenant as a secret, a CA file that holds a certificate; and the bounds and target lists of the
rest of the config (quiet wrongs turned into messages)."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from aitop import cli
from aitop.config import ConfigError, build_config
from aitop.secret import Secret, mask

VALUE = "cred_CONFIG_http_77aa"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    path.chmod(0o600)
    return path


@pytest.mark.parametrize("name", ["Authorization", "authorization", "Proxy-Authorization", "Cookie", "X-Auth-Token",
                                  "X-Vault-Token", "Private-Token", "token", "x_session_token", "X-Api-Key", "api-key", "X-APIKEY", "Api_Key-2"])
def test_credential_headers_on_the_command_line_are_refused_with_the_config_file_hint(name):
    with pytest.raises(ConfigError) as caught:
        build_config(["x:1"], headers=[f"{name}: {VALUE}"], environ={})
    message = str(caught.value)
    assert message.startswith(f"--header {name}: credentials on the command line are visible to every user in `ps`; "
                              f"put it in the config file instead: [http.headers] {name} = {{ file = \"PATH\" }} or "
                              f"{{ env = \"VAR\" }}")
    assert VALUE not in message


@pytest.mark.parametrize("name", ["X-Team", "X-Scope-OrgID", "X-Token-Count", "Accept-Language"])
def test_other_headers_are_still_accepted_on_the_command_line(name):
    config = build_config(["x:1"], headers=[f"{name}: team-7"], environ={})
    assert [(n, v.reveal()) for n, v in config.http.headers] == [(name, "team-7")]


def test_a_malformed_header_flag_is_not_quoted_back(capsys):
    assert cli.main(["snapshot", "x:1", "--header", f"Bearer {VALUE}"]) == 2
    err = capsys.readouterr().err
    assert "--header takes 'Name: value'" in err and VALUE not in err


def test_credential_headers_from_the_config_file_are_sent(tmp_path):
    write(tmp_path, "auth", f"Bearer {VALUE}\n")
    config = write(tmp_path, "config.toml", '[http.headers]\nAuthorization = { file = "auth" }\n')
    http = build_config(["x:1"], config_file=config, environ={}).http
    assert dict(http._auth_headers()) == {"Authorization": f"Bearer {VALUE}"}


def test_basic_auth_user_without_a_password_is_refused():
    with pytest.raises(ConfigError) as caught:
        build_config(["x:1"], basic_auth_user="bob", environ={})
    assert str(caught.value) == ("basic auth user 'bob' has no password: give --basic-auth-password-file, "
                                 "$AITOP_PASSWORD, or http.basic_auth_password_file / _env in the config file")
    http = build_config(["x:1"], basic_auth_user="bob", environ={"AITOP_PASSWORD": VALUE}).http
    token = base64.b64encode(f"bob:{VALUE}".encode()).decode()
    assert dict(http._auth_headers()) == {"Authorization": f"Basic {token}"}
    assert mask(f"echo: Basic {token}") == "echo: Basic ***"  # the header's base64 form is masked too


def test_token_with_two_lines_is_refused_whether_from_a_file_or_the_environment(tmp_path):
    token = write(tmp_path, "token", f"{VALUE}\nleftover\n")
    with pytest.raises(ConfigError, match="holds more than one line: it must hold the credential alone"):
        build_config(["x:1"], bearer_token_file=str(token), environ={})
    with pytest.raises(ConfigError, match=r"AITOP_BEARER_TOKEN: \$AITOP_BEARER_TOKEN holds more than one line"):
        build_config(["x:1"], environ={"AITOP_BEARER_TOKEN": f"{VALUE}\nleftover"})


def test_tenant_can_be_a_secret_from_a_file_or_the_environment(tmp_path):
    write(tmp_path, "tenant", "tenant-SECRET-9\n")
    config = write(tmp_path, "config.toml", '[http]\ntenant_file = "tenant"\n')
    http = build_config(["x:1"], config_file=config, environ={}).http
    assert isinstance(http.tenant, Secret) and dict(http._auth_headers()) == {"X-Scope-OrgID": "tenant-SECRET-9"}
    assert mask("no org id tenant-SECRET-9") == "no org id ***"
    by_env = write(tmp_path, "env.toml", '[http]\ntenant_env = "ORG"\n')
    assert dict(build_config(["x:1"], config_file=by_env, environ={"ORG": "org-7"}).http._auth_headers()) == {
        "X-Scope-OrgID": "org-7"}
    both = write(tmp_path, "both.toml", '[http]\ntenant = "a"\ntenant_env = "ORG"\n')
    with pytest.raises(ConfigError, match="give one of tenant, tenant_file or tenant_env"):
        build_config(["x:1"], config_file=both, environ={"ORG": "x"})


def test_a_secret_too_short_to_mask_is_warned_about():
    config = build_config(["x:1"], environ={"AITOP_BEARER_TOKEN": "abc"})
    assert config.warnings == ("$AITOP_BEARER_TOKEN is shorter than 4 characters: aitop cannot mask it in what it "
                               "prints if a server echoes it back",)


@pytest.mark.parametrize("content", ["", "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIDd3bA==\n-----END PRIVATE KEY-----\n"])
def test_a_ca_file_without_a_certificate_is_refused_before_any_request(tmp_path, content):
    ca = write(tmp_path, "ca.pem", content)
    with pytest.raises(ConfigError) as caught:
        build_config(["https://x:1"], ca_file=str(ca), environ={})
    assert str(caught.value) == (f"--ca-file {ca}: no PEM certificate in it (empty, or a private key rather than the "
                                 "CA certificate?)")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"interval": 1e308}, "--interval must be between 0.5s and 1h, not 1e+308s"),
    ({"interval": 0.1}, "--interval must be between 0.5s and 1h, not 0.1s"),
    ({"window": 1e308}, "--window must be between 1ms and 30d, not 1e+308s"),
    ({"window": 0}, "--window must be between 1ms and 30d, not 0s"),
    ({"timeout": 1e308}, "--timeout must be between 1ms and 10m, not 1e+308s"),
    ({"timeout": float("nan")}, "--timeout must be between 1ms and 10m, not nans"),
])
def test_intervals_windows_and_timeouts_are_bounded_with_the_range_in_the_message(kwargs, message):
    with pytest.raises(ConfigError) as caught:
        build_config(["x:1"], environ={}, **kwargs)
    assert str(caught.value) == message


def test_the_bounds_hold_in_the_config_file_too(tmp_path):
    for text, message in [("interval = 1e308\n", "interval must be between 0.5s and 1h, not 1e+308s"),
                          ("[check]\nwindow = 1e308\n", "check.window must be between 1ms and 30d, not 1e+308s"),
                          ('[alerts]\nkeep_resolved = 1e308\n', "must be at most 366d, not 1e+308s")]:
        path = write(tmp_path, "config.toml", text)
        with pytest.raises(ConfigError) as caught:
            build_config(["x:1"], config_file=path, environ={})
        assert message in str(caught.value), text


def test_the_bounds_are_inclusive():
    config = build_config(["x:1"], interval=0.5, window=30 * 86400.0, timeout=600.0, environ={})
    assert (config.interval, config.window, config.timeout) == (0.5, 30 * 86400.0, 600.0)


@pytest.mark.parametrize("value", ["a:1,b:2/metrics", "a:1, b:2/metrics", " a:1\tb:2/metrics ", "a:1,,b:2/metrics,"])
def test_url_lists_in_the_environment_split_on_commas_and_whitespace(value):
    assert build_config([], environ={"AITOP_URL": value}).targets == ("http://a:1", "http://b:2/metrics")
