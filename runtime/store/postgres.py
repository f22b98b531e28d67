"""The PostgreSQL backend: a connection that speaks the store's SQLite SQL, so reader, writer and retention are shared.

Why a translating connection rather than a second reader and writer: the store's
queries are few and plain; what differs between the two databases is small
(placeholders, `INSERT OR IGNORE`/`OR REPLACE`, `LIKE`'s case, column types in the
DDL), so it is rewritten here, once per statement text, and every query is written
once. The SQLite path runs its SQL untouched. What cannot be rewritten by text (JSON
tests, the score thinning's bare column) lives in `PG_SQL`, picked by the reader.

psycopg is imported only when a `postgresql://` URL is configured (the `postgres` extra).
The password comes from a file or an environment variable, never from the URL, and
every error text is scrubbed of it before it can reach a log, a status reply or the user.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from vgsum.stream.errors import UserError
from vgsum.stream.redact import redact_text

SCHEMES = ("postgresql", "postgres")
CONNECT_TIMEOUT_S = 5


def check_url(url: str) -> str:
    """The URL if it is a `postgresql://user@host:port/db` without a password; ValueError (one line) otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise ValueError("must be a postgresql://user@host:port/database URL")
    if parts.password is not None:
        raise ValueError("must not hold a password; put it in store.password_file or store.password_env")
    if "password" in parts.query.lower():
        raise ValueError("must not hold a password; put it in store.password_file or store.password_env")
    if not parts.path.strip("/"):
        raise ValueError("names no database: postgresql://user@host:port/database")
    return url


@dataclass(frozen=True)
class PostgresTarget:
    """Where a PostgreSQL store lives and how its password is found (never the password itself)."""

    url: str
    password_file: Path | None = None
    password_env: str | None = None

    def __post_init__(self) -> None:
        check_url(self.url)  # ValueError: a target never carries a password, so showing it is always safe

    def __str__(self) -> str:  # what logs and messages show: the URL has no password by construction
        return self.url

    def password(self) -> str | None:
        """Read now, so a rotated secret is picked up on reconnect; a missing source is a UserError line."""
        if self.password_file is not None:
            try:
                return self.password_file.expanduser().read_text().rstrip("\r\n")
            except OSError as err:
                raise UserError(f"store.password_file {self.password_file}: {err.strerror}") from None
        if self.password_env is not None:
            value = os.environ.get(self.password_env)
            if value is None:
                raise UserError(f"store.password_env: the environment has no {self.password_env}")
            return value
        return None


def is_postgres(target: object) -> bool:
    return isinstance(target, PostgresTarget)


def _scrub(text: str, secret: str | None) -> str:
    """An error text fit to show: the password (if any) replaced, URL credentials masked, one line."""
    if secret:
        text = text.replace(secret, "***")
    return " ".join(redact_text(text).split())[:300]


# -- SQL translation ---------------------------------------------------------------------------------------------
_OR_IGNORE = re.compile(r"^\s*INSERT OR IGNORE INTO", re.I)
_OR_REPLACE = re.compile(r"^\s*INSERT OR REPLACE INTO\s+(\w+)\s*\(([^)]*)\)", re.I)


@functools.lru_cache(maxsize=512)
def translate(sql: str) -> str:
    """The store's SQLite statement as PostgreSQL: `?` -> `%s`, `OR IGNORE`/`OR REPLACE` -> `ON CONFLICT`, ILIKE.

    Our statements hold no `?` or `%` inside string literals (values are always parameters).
    `INSERT OR REPLACE` is only used on tables keyed by `id`.
    """
    out = sql.replace("%", "%%").replace("?", "%s")
    if _OR_IGNORE.match(out):
        out = _OR_IGNORE.sub("INSERT INTO", out, count=1) + " ON CONFLICT DO NOTHING"
    match = _OR_REPLACE.match(out)
    if match:
        columns = [c.strip() for c in match.group(2).split(",")]
        sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c != "id")
        out = re.sub(r"^\s*INSERT OR REPLACE INTO", "INSERT INTO", out, count=1, flags=re.I)
        out += f" ON CONFLICT (id) DO UPDATE SET {sets}"
    return re.sub(r"\bLIKE\b", "ILIKE", out)  # SQLite's LIKE ignores ASCII case; the reader's searches rely on it


def translate_ddl(statement: str) -> str:
    """A migration statement as PostgreSQL: 8-byte floats and integers, an identity column for AUTOINCREMENT."""
    out = re.sub(r"\bINTEGER PRIMARY KEY AUTOINCREMENT\b", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
                 statement)
    out = re.sub(r"\bREAL\b", "DOUBLE PRECISION", out)  # PostgreSQL's REAL is 4 bytes; SQLite's is 8
    return re.sub(r"\bINTEGER\b", "BIGINT", out)


# The queries whose PostgreSQL form is not a text rewrite (the reader picks them by backend).
PG_SQL = {
    "label": "EXISTS (SELECT 1 FROM json_object_keys(highlights.objects::json) AS k WHERE k = ?)",
    "zone": "EXISTS (SELECT 1 FROM json_array_elements_text(highlights.zones::json) AS z WHERE z = ?)",
    # one row per bucket, the one with the bucket's peak (SQLite's bare-column MAX, spelled as DISTINCT ON);
    # FLOOR as SQLite's CAST AS INTEGER truncates (the values are >= 0), LEAST as its two-argument MIN
    "thinned": "SELECT wall_time, t, score FROM (SELECT DISTINCT ON (b) wall_time, t, score FROM "
               "(SELECT wall_time, t, score, LEAST(FLOOR((wall_time - ?) * ?), ?) AS b FROM scores WHERE {where}) "
               "AS s ORDER BY b, score DESC, wall_time) AS p ORDER BY wall_time",
}


# -- the connection ----------------------------------------------------------------------------------------------
class Row(tuple):
    """A row read by index, unpacked, or as a mapping (`dict(row)`), as `sqlite3.Row` is."""

    _names: tuple[str, ...]

    def __new__(cls, values: Any, names: tuple[str, ...]) -> Row:
        row = super().__new__(cls, values)
        row._names = names
        return row

    def keys(self) -> tuple[str, ...]:
        return self._names

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, str):
            return tuple.__getitem__(self, self._names.index(key))
        return tuple.__getitem__(self, key)


def _row_factory(cursor: Any) -> Any:
    names = tuple(c.name for c in cursor.description or ())
    return lambda values: Row(values, names)


class PgConnection:
    """The subset of `sqlite3.Connection` the store uses, over psycopg in autocommit mode with explicit BEGIN.

    Outside a transaction a statement that finds the server gone reconnects once and
    is retried (readers, retention); inside one the error reaches the caller (the
    writer keeps its batch and reconnects with backoff).
    """

    postgres = True

    def __init__(self, target: PostgresTarget) -> None:
        self.target = target
        self._raw: Any = None
        self._in_tx = False
        self.reconnect()

    def reconnect(self) -> None:
        """(Re)open the session; an unreachable server or refused login is a UserError of one line."""
        import psycopg

        self.close()
        secret = self.target.password()
        try:
            self._raw = psycopg.connect(
                self.target.url, password=secret, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S,
                row_factory=_row_factory, application_name="vgsum",
            )
        except psycopg.Error as err:
            raise UserError(f"history database {self.target}: cannot connect: {_scrub(str(err), secret)}") from None
        self._in_tx = False

    @property
    def broken(self) -> bool:
        return self._raw is None or self._raw.closed or self._raw.broken

    def execute(self, sql: str, args: Any = ()) -> Any:
        import psycopg

        word = sql.strip().split(None, 1)[0].upper() if sql.strip() else ""
        if not self._in_tx and self.broken:
            self.reconnect()
        in_tx = self._in_tx
        try:
            cursor = self._raw.execute(translate(sql), list(args) if args else None, prepare=False)
        except psycopg.OperationalError:
            if not self.broken:
                raise
            self._in_tx = False  # the session is gone, and its transaction with it
            if in_tx or word in ("BEGIN", "COMMIT", "ROLLBACK"):
                raise
            self.reconnect()  # the server restarted between two reads: one more try on a new session
            cursor = self._raw.execute(translate(sql), list(args) if args else None, prepare=False)
        if word == "BEGIN":
            self._in_tx = True
        elif word in ("COMMIT", "ROLLBACK"):
            self._in_tx = False
        return cursor

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Statements sent without waiting for each reply (psycopg's pipeline mode): a batch of the writer costs
        about one round trip instead of one per row. An error surfaces by the end of the block at the latest."""
        with self._raw.pipeline():
            yield

    def executemany(self, sql: str, rows: Any) -> None:
        with self._raw.cursor() as cursor:
            cursor.executemany(translate(sql), [list(r) for r in rows])

    def close(self) -> None:
        if self._raw is not None:
            with contextlib.suppress(Exception):  # closing a session whose server is gone: nothing to release
                self._raw.close()
            self._raw = None

    def __enter__(self) -> PgConnection:
        return self

    def __exit__(self, exc_type: Any, *exc: object) -> None:
        """As `with sqlite3.Connection`: commit an open transaction, or roll it back on an error."""
        if not self._in_tx:
            return
        if exc_type is None:
            self.execute("COMMIT")
        else:
            try:
                self.execute("ROLLBACK")
            except Exception:  # the session died: the server rolled it back already
                self._in_tx = False


def connect(target: PostgresTarget) -> PgConnection:
    """A session on the PostgreSQL store (UserError of one line when the server is not reachable)."""
    return PgConnection(target)


def scrub(text: str, target: PostgresTarget) -> str:
    """`text` with the target's password masked (used on writer failures before they are logged or shown)."""
    try:
        secret = target.password()
    except UserError:
        secret = None
    return _scrub(text, secret)
