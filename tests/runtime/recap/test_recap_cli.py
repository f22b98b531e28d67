"""`vgsum recap` as a user runs it: a real store, real clips, the real perception engine for novelty."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import av
import pytest
from recap_history import History

from vgsum.runtime.cli import main


def _recap(*args: str) -> int:
    return main(["recap", *args])


def test_a_recap_of_the_history(history: History, engine_folder: Path, tmp_path: Path, capsys):
    out = tmp_path / "day.mp4"
    code = _recap("--db", str(history.path), "--stream", "cam1", "--since", "-2h", "--budget", "3m",
                  "--out", str(out), "--engines", str(engine_folder), "--quiet")
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "5 parts of 5 highlights" in printed.out and "stream copy" in printed.out
    doc = json.loads(out.with_suffix(".json").read_text())
    assert [p["highlight_id"] for p in doc["parts"]] == history.ids  # all fit, in time order
    assert doc["mode"] == "copy" and doc["novelty_from"].startswith("perception")
    assert all(p["why"].startswith("score") for p in doc["parts"])
    with av.open(str(out)) as c:
        titles = [ch["metadata"]["title"] for ch in c.chapters()]
    assert titles == [p["caption"] for p in doc["parts"]]
    assert all("cam1" in t and "person" in t for t in titles)
    assert out.with_suffix(".vtt").read_text().count("-->") == 5


def test_novelty_keeps_the_same_thing_from_filling_the_recap(
    history: History, engine_folder: Path, tmp_path: Path, capsys
):
    """The same clip three times (the best-scored), two other scenes: with novelty the repeat is shown once."""
    store, wall0 = history.store, history.wall0
    store.conn.execute("DELETE FROM highlights")
    same, other1, other2 = history.clips[0], history.clips[2], history.clips[4]
    for i, score in enumerate([0.9, 0.88, 0.86]):
        store.highlight(f"again{i}", "cam1", start=100.0 + 30 * i, end=101.2 + 30 * i, wall0=wall0, score=score,
                        objects={"car": 1}, clip=same)
    store.highlight("visitor1", "cam1", start=300.0, end=302.4, wall0=wall0, score=0.6, clip=other1)
    store.highlight("visitor2", "cam1", start=400.0, end=402.2, wall0=wall0, score=0.55, clip=other2)
    shown = {}
    for flag in ("", "--no-novelty"):
        out = tmp_path / f"recap{flag}.mp4"
        args = ["--db", str(history.path), "--since", "-2h", "--budget", "6s", "--out", str(out),
                "--engines", str(engine_folder), "--quiet"] + ([flag] if flag else [])
        assert _recap(*args) == 0, capsys.readouterr().err
        shown[flag] = [p["highlight_id"] for p in json.loads(out.with_suffix(".json").read_text())["parts"]]
    assert shown["--no-novelty"][:3] == ["again0", "again1", "again2"]
    assert sum(h.startswith("again") for h in shown[""]) == 1
    assert {"visitor1", "visitor2"} <= set(shown[""])


def test_nothing_to_recap_is_one_line_and_no_file(history: History, tmp_path: Path, capsys):
    out = tmp_path / "empty.mp4"
    code = _recap("--db", str(history.path), "--since", "-10m", "--out", str(out), "--no-novelty", "--quiet")
    printed = capsys.readouterr()
    assert code == 0
    assert printed.out.strip().count("\n") == 0 and "nothing to recap" in printed.out
    assert not list(tmp_path.glob("empty*"))


def test_a_missing_clip_is_skipped_and_named(history: History, tmp_path: Path, capsys):
    moved = tmp_path / "clips"
    moved.mkdir()
    for i, clip in enumerate(history.clips):
        shutil.copy(clip, moved / clip.name)
        history.store.conn.execute("UPDATE highlights SET clip = ? WHERE id = ?", (str(moved / clip.name), f"h{i}"))
    (moved / history.clips[1].name).unlink()
    out = tmp_path / "r.mp4"
    code = _recap("--db", str(history.path), "--since", "-2h", "--out", str(out), "--no-novelty", "--quiet")
    printed = capsys.readouterr()
    assert code == 0
    (warning,) = [line for line in printed.err.splitlines() if "warning" in line]
    assert "h1" in warning and history.clips[1].name in warning and "missing" in warning
    doc = json.loads(out.with_suffix(".json").read_text())
    assert [p["highlight_id"] for p in doc["parts"]] == ["h0", "h2", "h3", "h4"]
    assert doc["skipped"][0]["id"] == "h1"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--budget", "0"], "more than 0"),
        (["--since", "-1h", "--budget", "2h"], "longer than the time range"),
        (["--stream", "nope"], "unknown stream 'nope'"),
        (["--since", "-1h", "--until", "-2h"], "--until must be after --since"),
        (["--out", "/no/such/folder/r.mp4"], "does not exist"),
        (["--out", "r.avi"], "MP4"),
        (["--since", "yesterday-ish"], "--since"),
        (["--budget", "lots"], "budget"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(history: History, tmp_path: Path, capsys, args, message):
    code = _recap("--db", str(history.path), "--no-novelty", "--quiet", *args)
    printed = capsys.readouterr()
    assert code == 2
    lines = printed.err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in printed.err


def test_no_database_is_one_line(tmp_path: Path, capsys):
    assert _recap("--db", str(tmp_path / "none.db")) == 2
    assert "no history database" in capsys.readouterr().err
