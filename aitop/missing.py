"""Why a field has no value: the reasons a row carries instead of a number (re-exported by `aitop.model`)."""

from __future__ import annotations

import enum


class Missing(str, enum.Enum):
    """Why a field has no value. Shown instead of a number, never as 0 (when each applies: docs/metrics.md)."""

    NO_METRIC = "no such metric"
    NOT_ENOUGH_SAMPLES = "not enough samples"
    NO_OBSERVATIONS = "no observations in window"
    TARGET_DOWN = "target down"
    QUERY_ERROR = "query error"
    LIMIT = "query rejected by a server limit"
    TIMEOUT = "query timed out"
    TLS = "TLS failure"
    NO_BUCKETS = "histogram has only a +Inf bucket"
