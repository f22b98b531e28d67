"""`python -m vgsum.runtime.cli`: the console script without its installed wrapper."""

import sys

from vgsum.runtime.cli import main

if __name__ == "__main__":
    sys.exit(main())
