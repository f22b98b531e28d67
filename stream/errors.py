"""The one exception type for mistakes a user can make and fix.

It lives in `stream/` (the bottom layer) so that every layer can raise it without
reaching upward; the CLI prints it as a single line and exits 2. Anything else is
a bug and keeps its traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """A user-caused problem: bad config, missing engine, unreachable source. Message is one line."""
