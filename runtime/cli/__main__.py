import sys

from vgsum.runtime.cli import main

sys.exit(main())
