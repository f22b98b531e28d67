"""The daemon's malloc settings: frame-sized blocks stay in mmap after frees, so RSS does not creep up."""

from __future__ import annotations

import ctypes.util
import subprocess
import sys

import pytest

PROBE = """
import ctypes, ctypes.util, sys
from vgsum.runtime.common.allocator import tune_for_daemon
libc = ctypes.CDLL(ctypes.util.find_library("c"))
class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]
libc.mallinfo2.restype = MallInfo2
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
if sys.argv[1] == "tuned":
    assert tune_for_daemon()
size = 510 * 1024  # one 640x272 RGB frame
libc.free(libc.malloc(size))  # glibc's default raises its mmap threshold on this free
before = libc.mallinfo2().hblkhd  # bytes in mmapped blocks (the interpreter holds some)
block = libc.malloc(size)
print("mmap" if libc.mallinfo2().hblkhd - before >= size else "heap")
libc.free(block)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux") or ctypes.util.find_library("c") is None, reason="glibc only")
@pytest.mark.parametrize(("mode", "where"), [("default", "heap"), ("tuned", "mmap")])
def test_a_freed_frame_sized_block_is_served_by_mmap_again_only_when_tuned(mode, where):
    """The default (heap, after the first free) is what fragmented; the check fails if tuning stops taking effect."""
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == where
