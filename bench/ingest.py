#!/usr/bin/env python3
"""Ingest benchmark: the same as `vgsum bench ingest [ARGS]` (see vgsum.runtime.ingest_bench)."""

import sys

from vgsum.runtime.ingest_bench import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
