#!/usr/bin/env python3
"""Shot-cut benchmark: the same as `vgsum bench shots [ARGS]` (see vgsum.runtime.shot_bench)."""

import sys

from vgsum.runtime.shot_bench import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
