"""The goodput targets in use: each Goodput field's declared target (`aitop.fields`), replaced by the
configured one (`[engine]` in the config file, `aitop.engine_config`)."""

from __future__ import annotations

from aitop.derivations import GOODPUT_TARGETS, Goodput
from aitop.fields import FIELD_BY_NAME, FIELDS

__all__ = ["GOODPUT_TARGETS", "configure_goodput"]

GOODPUT_TARGETS.update({spec.name: spec.derive.target for spec in FIELDS if isinstance(spec.derive, Goodput)})


def configure_goodput(ttft: float | None = None, tpot: float | None = None) -> None:
    """Use these goodput targets (seconds) for every row from now on; None: the declared default."""
    for name, target in (("goodput_ttft", ttft), ("goodput_tpot", tpot)):
        derive = FIELD_BY_NAME[name].derive
        assert isinstance(derive, Goodput)
        GOODPUT_TARGETS[name] = target if target is not None else derive.target
