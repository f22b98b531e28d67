"""How long a recap may be: `3m`, `90s`, `1h`, a bare number of seconds, or a share of the range (`5%`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from vgsum.runtime.common.errors import UserError

FORMS = "seconds (90, 90s), minutes (3m), hours (1h) or a share of the time range (5%)"
_SPAN = re.compile(r"(\d+(?:\.\d+)?)\s*([smh]?)")
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%")
_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}


@dataclass(frozen=True)
class Budget:
    """Either a length in seconds or a share (0-1] of the recapped time range."""

    seconds: float | None = None
    share: float | None = None

    def for_range(self, range_s: float) -> float:
        """The recap's length for a range of `range_s` seconds; UserError when it is 0 or longer than the range."""
        length = self.seconds if self.seconds is not None else (self.share or 0.0) * range_s
        if length <= 0:
            raise UserError("the budget must be more than 0 s")
        if length > range_s:
            raise UserError(f"the budget ({length:.0f} s) is longer than the time range ({range_s:.0f} s)")
        return length

    def __str__(self) -> str:
        return f"{self.share * 100:g}%" if self.share is not None else f"{self.seconds:g}s"


def parse_budget(text: str) -> Budget:
    """The budget written in `text`; UserError (one line, listing the forms) for anything else."""
    value = str(text).strip().lower()
    percent = _PERCENT.fullmatch(value)
    if percent:
        share = float(percent.group(1)) / 100.0
        if not 0 < share <= 1:
            raise UserError(f"budget {text!r}: a share must be more than 0 % and at most 100 %")
        return Budget(share=share)
    span = _SPAN.fullmatch(value)
    if span is None:
        raise UserError(f"budget {text!r}: give {FORMS}")
    seconds = float(span.group(1)) * _UNITS[span.group(2)]
    if seconds <= 0:
        raise UserError(f"budget {text!r}: must be more than 0 s")
    return Budget(seconds=seconds)
