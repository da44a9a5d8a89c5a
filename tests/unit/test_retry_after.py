"""Retry-After: delay-seconds or an HTTP date, capped, and None for what cannot be read."""

from __future__ import annotations

import email.utils

import pytest

from aitop.transport import retry_after_seconds

NOW = 1_790_000_000.0


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("30", 30.0),
        (" 2.5 ", 2.5),
        ("-4", 0.0),  # never a negative wait
        ("86400", 600.0),  # at most 10 minutes
        (email.utils.formatdate(NOW + 45, usegmt=True), 45.0),
        (email.utils.formatdate(NOW - 60, usegmt=True), 0.0),  # a date in the past: now
        ("", None),
        ("soon", None),
        ("nan", None),
        ("Sun, 06 Nov 1994 08:49:37", None),  # no zone: not an HTTP date
    ],
)
def test_retry_after(header, seconds):
    assert retry_after_seconds(header, now=NOW) == seconds
