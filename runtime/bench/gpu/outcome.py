"""What became of one stage or item: ok with its figures, skipped with why, or failed with one line.

One GPU run has to show every fault at once, so a piece that breaks is recorded and
the run goes on; a missing module or a UserError is a reason to skip, not a fault.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vgsum.runtime.common.errors import UserError


def skipped(reason: str) -> dict[str, Any]:
    """A stage or item that did not run, and why (one line)."""
    return {"status": "skipped", "reason": reason}


def error_line(err: BaseException) -> str:
    """One line for a stage that broke: type, first line of the message, innermost frame."""
    first = (str(err).splitlines() or [""])[0][:300]
    frames = traceback.extract_tb(err.__traceback__)
    where = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno} in {frames[-1].name})" if frames else ""
    return f"{type(err).__name__}: {first}{where}"


def guarded(fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run one piece: a UserError or a missing module is 'skipped' with its line, anything else 'failed'."""
    started = time.perf_counter()
    try:
        result = fn()
    except UserError as err:
        result = skipped(str(err))
    except ImportError as err:
        result = skipped(f"the {err.name or err} module is not installed here")
    except Exception as err:  # a broken stage is recorded and the run goes on: one GPU run shows every fault
        result = {"status": "failed", "error": error_line(err)}
    result.setdefault("status", "ok")
    result["seconds"] = round(time.perf_counter() - started, 3)
    return result


def failures(entry: Any, where: str = "") -> list[str]:
    """Where in the report something broke (a stage, a plan, a parity check...), as dotted paths."""
    if not isinstance(entry, dict):
        return []
    found = [where] if entry.get("status") == "failed" else []
    for key, value in entry.items():
        found += failures(value, f"{where}.{key}" if where else str(key))
    return found


def say(message: str) -> None:
    """A progress line: the log kept beside the report shows where a run that was cut off stood."""
    print(f"[bench gpu] {message}", flush=True)
