"""`vgsum highlights` on a real store: filters, relative times, and one line with exit 2 for bad input."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from vgsum.runtime.cli import main
from vgsum.runtime.cli.highlights import parse_when
from vgsum.runtime.common.errors import UserError
from vgsum.runtime.store.writer import StoreWriter
from vgsum.stream.messages import EventMessage


@pytest.fixture
def store(history_data_dir: Path) -> Path:
    """The default store ($VGSUM_DATA/history.db): a dog 3 h ago on cam1, a car just now on cam2."""
    writer = StoreWriter(history_data_dir / "history.db").start()
    now = time.time()
    for seq, (stream, hid, ago, objects, query) in enumerate(
        [("cam1", "dog1", 3 * 3600, {"dog": 1}, None), ("cam2", "car1", 60, {"car": 2}, "red car")]
    ):
        writer.record(EventMessage(stream_id=stream, seq=seq, media_time=100.0, wall_time=now - ago, id=hid,
                                   phase="end", start=90.0, end=100.0, score=0.8, objects=objects, query=query))
    writer.stop()
    return history_data_dir / "history.db"


def _ids(capsys: pytest.CaptureFixture[str], *args: str) -> list[str]:
    assert main(["highlights", "--json", *args]) == 0
    return [json.loads(line)["id"] for line in capsys.readouterr().out.splitlines()]


def test_filters_and_times(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _ids(capsys) == ["car1", "dog1"]
    assert _ids(capsys, "--since", "-1h") == ["car1"]
    assert _ids(capsys, "--until", "-2h") == ["dog1"]
    assert _ids(capsys, "--stream", "cam1") == ["dog1"]
    assert _ids(capsys, "--object", "car") == ["car1"]
    assert _ids(capsys, "--query", "RED") == ["car1"]
    assert _ids(capsys, "--db", str(store), "--since", "2000-01-01T00:00") == ["car1", "dog1"]
    assert main(["highlights", "--since", "-1h"]) == 0
    out = capsys.readouterr().out
    assert "cam2" in out and "car x2" in out and "query: red car" in out and out.endswith("1 highlights\n")


def test_parse_when() -> None:
    assert parse_when("-90m", "--since", now=10_000.0) == 10_000.0 - 5400
    assert parse_when("now", "--since", now=5.0) == 5.0
    assert parse_when("1700000000", "--since") == 1_700_000_000.0
    assert parse_when("2026-01-01T00:00:00+00:00", "--since") == 1_767_225_600.0
    with pytest.raises(UserError, match="--until 'tomorrow'"):
        parse_when("tomorrow", "--until")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--since", "yesterday"], "--since 'yesterday': give an ISO time"),
        (["--since", "-1h", "--until", "-2h"], "--until must be after --since"),
        (["--limit", "0"], "--limit must be between"),
        (["--db", "/nonexistent/h.db"], "no history database at /nonexistent/h.db"),
        (["--db", "GARBAGE"], "cannot be used: file is not a database"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], fragment: str
) -> None:
    if "GARBAGE" in args:
        garbage = tmp_path / "garbage.db"
        garbage.write_bytes(b"not sqlite at all" * 100)
        args = [str(garbage) if a == "GARBAGE" else a for a in args]
    assert main(["highlights", *args]) == 2
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1, err
