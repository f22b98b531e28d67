#!/usr/bin/env python3
"""Pipeline benchmark: the same as `vgsum bench pipeline [ARGS]` (see vgsum.runtime.pipeline_bench)."""

import sys

from vgsum.runtime.pipeline_bench import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
