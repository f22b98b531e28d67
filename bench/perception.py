"""Thin script: `python bench/perception.py [ARGS]` is `vgsum bench perception [ARGS]`."""

import sys

from vgsum.export.perception_bench import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
