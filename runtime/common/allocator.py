"""glibc malloc settings for a long-running daemon, so that its resident memory stays flat over hours.

Why: a daemon allocates frame-sized buffers (a 640x272 RGB frame is 510 KiB; the
decoder, the scene model and the engines make several per frame) in one thread
and frees them in another. glibc serves such sizes with mmap at first, but every
free of an mmapped block raises its mmap threshold (up to 32 MiB), so from then
on they come from per-thread heap arenas (up to 8 per core), which fragment and
hardly ever return memory: RSS crept up by about 6 MB a minute with three looped
streams. A fixed threshold keeps large blocks in mmap (returned to the system on
free), and two arenas bound what the threads can hold on to.

The settings are process-wide and must come before the threads start. Where the
C library is not glibc, nothing changes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3  # mallopt parameters from glibc's malloc.h
M_ARENA_MAX = -8
MMAP_THRESHOLD_BYTES = 128 * 1024  # glibc's default start value, now fixed
ARENA_MAX = 2


def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.gnu_get_libc_version  # noqa: B018 - only glibc has it
    except (OSError, AttributeError):
        return None
    return libc


def tune_for_daemon() -> bool:
    """Fix the mmap threshold and cap the arenas (see the module docstring); True when glibc took both."""
    libc = _glibc()
    if libc is None:
        log.debug("not glibc: malloc left as it is")
        return False
    took = bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(libc.mallopt(M_ARENA_MAX, ARENA_MAX))
    if not took:
        log.warning("glibc refused the malloc settings; memory may grow with fragmentation")
    return took
