"""User feedback (👍/👎) conventions, as data: which labels carry a rating, which values mean what.

Two shapes are common in the wild: one counter named `*feedback*` with a
rating-like label (`rating="thumbs_down"`), or paired counters `*_positive_total` / `*_negative_total`.
`negative_ratio` is the field `feedback_negative_ratio`: unknown (None) without votes, never 0.
"""

from __future__ import annotations

import re

from aitop.catalog import FEEDBACK_NEGATIVE, FEEDBACK_POSITIVE

#: Label names whose value is a rating, in the order they are looked for.
RATING_LABELS: tuple[str, ...] = ("rating", "feedback", "vote", "verdict", "outcome", "sentiment")

#: Paired counters: `agent_feedback_positive_total`, `chat_feedback_negative` (with or without `_total`).
_PAIRED = re.compile(r"(?P<stem>.*feedback.*)_(?P<side>positive|negative)(?:_total)?")


def classify_rating(value: str | None) -> str | None:
    """"positive", "negative", or None (neutral, unknown, absent), for a rating label value."""
    if value is None:
        return None
    text = value.strip().lower()
    if text in FEEDBACK_POSITIVE:
        return "positive"
    if text in FEEDBACK_NEGATIVE:
        return "negative"
    return None


def rating_of(labels: dict[str, str]) -> str | None:
    """The classified rating of a series, from the first rating-like label it carries."""
    for label in RATING_LABELS:
        if labels.get(label):
            return classify_rating(labels[label])
    return None


def paired_side(metric: str) -> str | None:
    """"positive" / "negative" for a paired feedback counter's name, else None."""
    match = _PAIRED.fullmatch(metric)
    return match.group("side") if match else None


def negative_ratio(positive: float, negative: float) -> float | None:
    """Negative votes / all votes; None when there were no votes (a quiet window is not a happy one)."""
    total = positive + negative
    if not total > 0:
        return None
    return negative / total
