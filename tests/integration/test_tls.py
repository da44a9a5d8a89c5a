"""TLS against a real Prometheus serving HTTPS only (the `tls_prometheus` fixture: `--web.config.file`, a
self-signed certificate made with openssl): each way of getting it wrong gets a message that says what is
wrong, and --insecure-skip-verify is quiet on stderr but recorded in the JSON.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from aitop.sources.prometheus.collector import PrometheusCollector
from aitop.transport import HttpSettings

pytestmark = pytest.mark.integration


def run_aitop(server, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AITOP_", "PROMETHEUS_", "PYTHONWARNINGS"))}
    env.update(HOME=str(server.home), XDG_STATE_HOME=str(server.home / "state"),
               XDG_CONFIG_HOME=str(server.home / "config"))
    return subprocess.run([sys.executable, "-m", "aitop", *args], env=env, capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)


def crash_files(server) -> list[Path]:
    return list((server.home / "state").glob("**/crash-*.log"))


def test_plain_http_to_the_https_port_says_use_https(tls_prometheus):
    plain = tls_prometheus.url.replace("https://", "http://")
    result = run_aitop(tls_prometheus, "snapshot", plain)
    assert result.returncode == 2
    assert result.stderr == f"aitop: 127.0.0.1: the server speaks HTTPS; use https://127.0.0.1:{tls_prometheus.port}\n"
    scraped = run_aitop(tls_prometheus, "snapshot", plain + "/metrics", "--window", "0.1")
    assert scraped.returncode == 1
    assert (f"the server speaks HTTPS; use https://127.0.0.1:{tls_prometheus.port}/metrics "
            "(HTTP 400 to plain http://)") in scraped.stderr


def test_plain_http_in_prometheus_mode_says_use_https_too(tls_prometheus):
    """The collector itself (as the TUI uses it after a detection that passed earlier)."""
    plain = tls_prometheus.url.replace("https://", "http://")

    async def collect():
        collector = PrometheusCollector(plain, window=30.0, timeout=5.0, http=HttpSettings())
        try:
            return await collector.collect()
        finally:
            await collector.aclose()

    (target,) = asyncio.run(collect()).targets
    assert not target.up
    assert target.error.startswith(f"the server speaks HTTPS; use https://127.0.0.1:{tls_prometheus.port} "
                                   "(HTTP 400 to plain http://)")


def test_an_untrusted_certificate_is_reported_as_a_tls_failure(tls_prometheus):
    result = run_aitop(tls_prometheus, "snapshot", tls_prometheus.url)
    assert result.returncode == 2
    assert ("TLS failure: certificate not accepted (self-signed certificate) — give the server's CA with "
            "--ca-file (or --insecure-skip-verify)") in result.stderr
    forced = run_aitop(tls_prometheus, "snapshot", tls_prometheus.url, "--prometheus", "--format", "json")
    (target,) = json.loads(forced.stdout)["targets"]
    assert target["error"].startswith("TLS failure: certificate not accepted (self-signed certificate)")
    scraped = run_aitop(tls_prometheus, "snapshot", tls_prometheus.url + "/metrics", "--window", "0.1")
    assert "TLS failure: certificate not accepted (self-signed certificate)" in scraped.stderr


def test_the_ca_file_is_trusted_and_the_json_says_certificates_were_verified(tls_prometheus):
    result = run_aitop(tls_prometheus, "snapshot", tls_prometheus.url, "--ca-file", str(tls_prometheus.cert),
                       "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["source"] == {"kind": "prometheus", "targets": [tls_prometheus.url],
                                                   "tls_verified": True}
    assert result.stderr == ""


def test_insecure_skip_verify_is_quiet_on_stderr_and_recorded_in_json_and_table(tls_prometheus):
    result = run_aitop(tls_prometheus, "snapshot", tls_prometheus.url, "--insecure-skip-verify", "--format", "json")
    assert result.returncode == 0
    assert result.stderr == ""  # no urllib3 InsecureRequestWarning, once per request
    assert json.loads(result.stdout)["source"]["tls_verified"] is False
    table = run_aitop(tls_prometheus, "snapshot", tls_prometheus.url, "--insecure-skip-verify")
    assert table.stderr == "" and "TLS certificates NOT verified (--insecure-skip-verify)" in table.stdout


@pytest.mark.parametrize("which", ["key", "empty"])
def test_a_ca_file_that_is_a_key_or_empty_exits_2_with_a_message_and_no_crash_file(tls_prometheus, which):
    path = tls_prometheus.key if which == "key" else tls_prometheus.home / "empty.pem"
    path.touch()
    for command in ("snapshot", "detect"):
        result = run_aitop(tls_prometheus, command, tls_prometheus.url, "--ca-file", str(path))
        assert result.returncode == 2
        assert result.stderr == (f"aitop: --ca-file {path}: no PEM certificate in it (empty, or a private key rather "
                                 "than the CA certificate?)\n")
    check = run_aitop(tls_prometheus, "check", tls_prometheus.url, "--ca-file", str(path))
    assert check.returncode == 3 and check.stdout.startswith(f"AITOP UNKNOWN: --ca-file {path}: no PEM certificate")
    assert not crash_files(tls_prometheus)
