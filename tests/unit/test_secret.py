"""Secrets: never shown by str/repr/format, masked in any text while alive, read from private one-line files."""

from __future__ import annotations

import pytest

from aitop.secret import MASK, Secret, SecretFileError, mask, mask_data, read_secret_file

VALUE = "glc_SECRET_unit_31c7"


@pytest.mark.parametrize("spec", ["", "s", ">40", "<5", "^30", "!r", "x>9"])
def test_format_never_returns_the_value_whatever_the_spec(spec):
    secret = Secret(VALUE)
    assert format(secret, spec.removeprefix("!r")) == MASK
    assert f"{secret}" == MASK and f"{secret:>40}" == MASK and f"{secret!r}" == "Secret('***')"
    assert VALUE not in str(secret) + repr(secret) + "%s" % secret  # noqa: UP031 — %-formatting is under test


def test_mask_replaces_live_secrets_in_text_and_json_like_data():
    secret = Secret(VALUE)
    assert mask(f"bad token Bearer {VALUE}!") == "bad token Bearer ***!"
    data = {"error": f"echo {VALUE}", VALUE: [f"{VALUE}", 3, None, True], "n": 1.5}
    assert mask_data(data) == {"error": "echo ***", "***": ["***", 3, None, True], "n": 1.5}
    assert secret.reveal() == VALUE  # (the request still gets the real value)


@pytest.mark.parametrize(("mode", "who"), [(0o600, None), (0o400, None), (0o640, "readable by its group"),
                                           (0o604, "readable by other users"), (0o644, "readable by other users"),
                                           (0o620, "writable by its group")])
def test_secret_files_readable_beyond_the_owner_are_warned_about(tmp_path, mode, who):
    path = tmp_path / "token"
    path.write_text(VALUE + "\n")
    path.chmod(mode)
    secret, warning = read_secret_file(path)
    assert secret.reveal() == VALUE
    if who is None:
        assert warning is None
    else:
        assert warning == f"{path} is {who} (chmod 600 {path})"


@pytest.mark.parametrize(("content", "message"), [
    (f"{VALUE}\nsecond-line\n", "holds more than one line: it must hold the credential alone, on one line"),
    (f"{VALUE}\r\nx", "holds more than one line"),
    (f"{VALUE}\x00x", "holds control characters, which cannot be sent in an HTTP header"),
    ("  \n", "is empty"),
])
def test_unusable_secret_files_are_refused_without_quoting_them(tmp_path, content, message):
    path = tmp_path / "token"
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(SecretFileError) as caught:
        read_secret_file(path)
    assert message in str(caught.value) and VALUE not in str(caught.value)
