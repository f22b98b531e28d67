"""`--db` of the commands that read the history: a SQLite file, or a `postgresql://user@host/db` URL.

One place, so `vgsum highlights` and `vgsum recap` read the same databases the same
way. A URL's password comes from `--password-file` or `--password-env`, never from
the URL itself (refused, masked, in one line), as in the daemon's `store:` section.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from vgsum.runtime.common.errors import UserError
from vgsum.runtime.store.postgres import PostgresTarget


def add_db_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", help="the history database: a SQLite file (default: $VGSUM_DATA/history.db) or postgresql://user@host/db"
    )
    parser.add_argument("--password-file", type=Path, help="with a postgresql:// --db: the file holding its password")
    parser.add_argument("--password-env", help="with a postgresql:// --db: the environment variable holding it")


def db_target(args: argparse.Namespace) -> Path | PostgresTarget:
    """The database `--db` names (the default file without it); UserError when a file is missing or a URL unusable."""
    from vgsum.runtime.store.config import StoreConfig, cli_target, is_database_url

    if is_database_url(args.db):
        return cli_target(args.db, args.password_file, args.password_env)
    if args.password_file is not None or args.password_env is not None:
        raise UserError("--password-file and --password-env go with a postgresql:// --db")
    path = Path(args.db).expanduser() if args.db is not None else StoreConfig().db_path
    if not path.is_file():
        raise UserError(f"no history database at {path} (run `vgsum run` or `vgsum serve` first, or give --db)")
    return path
