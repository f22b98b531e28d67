"""The same messages through `StoreWriter` into SQLite and into a real PostgreSQL give the same `StoreReader` answers.

Highlights under every filter and page, open ones, score timelines (whole and thinned),
states, stored messages, recaps, the seq resume point, search by meaning; then
retention on PostgreSQL, and two daemons writing one database under their own ids.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from postgres_server import PostgresServer

from vgsum.runtime.store.config import StoreConfig
from vgsum.runtime.store.postgres import PostgresTarget
from vgsum.runtime.store.reader import StoreReader
from vgsum.runtime.store.retention import DAY_S, apply_retention
from vgsum.runtime.store.schema import connect
from vgsum.runtime.store.writer import StoreWriter
from vgsum.stream.messages import EventMessage, HighlightMessage, RecapMessage, ScoreMessage, StatusMessage
from vgsum.stream.state import StreamState

T0 = 1_800_000_000.0


def _messages() -> list:
    """Two streams' hour: states, final scores (distinct peaks), highlights in every phase, a recap."""
    out: list = []
    seq = {"status": 0, "score": 0, "event": 0, "highlight": 0, "recap": 0}

    def nxt(kind: str) -> int:
        seq[kind] += 1
        return seq[kind]

    for stream, error in (("north", None), ("south", "rtsp://***@cam: 401")):
        for k, state in enumerate((StreamState.CONNECTING, StreamState.STREAMING, StreamState.RECONNECTING)):
            out.append(StatusMessage(
                stream_id=stream, seq=nxt("status"), media_time=None, wall_time=T0 + 10 * k, state=state,
                url="rtsp://***@cam/1", fps_in=0, fps_out=0, frames_decoded=0, frames_sampled=0, frames_dropped=0,
                lag_s=0, reconnects=0, last_error=error if state == StreamState.RECONNECTING else None,
            ))
        for i in range(120):  # 2 per second for a minute; only the second's peak is kept
            t = i * 0.5
            out.append(ScoreMessage(stream_id=stream, seq=nxt("score"), media_time=t, wall_time=T0 + t, t=t,
                                    score=round(0.1 + ((i * 37) % 101) / 200, 4), final=True))
    events = [  # stream, id, phase, start, end, at, objects, query, zones
        ("north", "n1", "start", 2.0, 3.0, 4.0, {"car": 1}, None, ["drive"]),
        ("north", "n1", "update", 2.0, 8.0, 9.0, {"car": 2, "person": 1}, None, ["drive"]),
        ("north", "n1", "end", 2.0, 12.0, 13.0, {"car": 2, "person": 1}, "Red Car_%", ["drive", "door"]),
        ("north", "n2", "start", 30.0, 31.0, 32.0, {"dog": 1}, None, []),
        ("south", "s1", "start", 5.0, 6.0, 7.0, {"person": 1}, "a person", ["door"]),
        ("south", "s1", "end", 5.0, 20.0, 21.0, {"person": 3}, "a person", ["door"]),
        ("south", "s2", "start", 40.0, 41.0, 42.0, {"cat": 1}, None, []),
        ("south", "s2", "end", 40.0, 44.0, 45.0, {"cat": 1}, None, []),
    ]
    for stream, hid, phase, start, end, at, objects, query, zones in events:
        fields = dict(start=start, end=end, score=0.5 + start / 100, objects=objects, query=query, zones=zones)
        out.append(EventMessage(stream_id=stream, seq=nxt("event"), media_time=at, wall_time=T0 + at, id=hid,
                                phase=phase, clip=f"/clips/{hid}.mp4" if phase == "end" else None, **fields))
        if phase == "end":
            out.append(HighlightMessage(stream_id=stream, seq=nxt("highlight"), media_time=at, wall_time=T0 + at,
                                        **fields))
    out.append(RecapMessage(stream_id="north", seq=nxt("recap"), media_time=None, wall_time=T0 + 100, id="r1",
                            since=T0 - 86_400, until=T0, duration=42.5, parts=3, query=None, path="/recaps/r1.mp4",
                            created_at=T0 + 99))
    return out


LOOKS = {"n1": [["car", "red", "sports car", True], ["person", "blue", None, False]], "s1": [["person", None, None,
                                                                                                True]]}


def _write(target: Path | PostgresTarget, thumbnails: Path) -> dict:
    writer = StoreWriter(target, thumbnails_dir=thumbnails, flush_s=0.05, daemon_id="edge-a").start()
    for message in _messages():
        writer.record(message)
    for hid, looks in LOOKS.items():
        writer.looks("north" if hid.startswith("n") else "south", hid, looks)
    assert writer.flush(10.0)
    seqs = writer.max_seqs()
    writer.stop(5.0)
    assert writer.failure is None and not writer.dropped
    return seqs


def _plain(rows: list) -> list:
    """Rows as dicts without the writer's own clock (created_at/updated_at are when each writer committed)."""
    out = []
    for row in rows:
        item = dataclasses.asdict(row)
        item.pop("created_at", None) if "phase" in item else None
        item.pop("updated_at", None) if "phase" in item else None
        out.append(item)
    return out


def _answers(reader: StoreReader) -> dict:
    ask = {
        "streams": reader.streams(),
        "all": reader.highlights(),
        "north": reader.highlights(stream_id="north"),
        "window": reader.highlights(since=T0 + 10, until=T0 + 35),
        "query-case": reader.highlights(query="red car"),
        "query-escape": reader.highlights(query="car_%"),
        "query-none": reader.highlights(query="car%x"),
        "label": reader.highlights(label="person"),
        "zone": reader.highlights(zone="door"),
        "page1": reader.highlights(limit=2),
        "page2": reader.highlights(limit=2, before=(T0 + 30.0, "n2")),
        "open": reader.open_highlights(["north", "south"]),
        "one": [reader.highlight("s1")],
        "scores": reader.scores("north"),
        "thinned": reader.scores("north", max_points=7),
        "scores-window": reader.scores("south", since=T0 + 10, until=T0 + 20, max_points=4),
        "states": reader.states("south"),
        "states-window": reader.states("north", since=T0 + 5),
        "recaps": reader.recaps(),
        "recap": [reader.recap("r1")],
    }
    out = {name: _plain(rows) for name, rows in ask.items()}
    out["events"] = reader.messages("north", "event", 0)
    out["events-range"] = reader.messages("south", "event", 6, 7)
    out["highlight-messages"] = reader.messages("south", "highlight", 0)
    out["recap-messages"] = reader.messages("north", "recap", 0)
    return out


def test_sqlite_and_postgresql_answer_every_read_the_same(tmp_path: Path, pg_target: PostgresTarget) -> None:
    sqlite_seqs = _write(tmp_path / "history.db", tmp_path / "thumbs-sqlite")
    pg_seqs = _write(pg_target, tmp_path / "thumbs-pg")
    assert sqlite_seqs == pg_seqs == {("north", "event"): 4, ("south", "event"): 8, ("north", "highlight"): 1,
                                      ("south", "highlight"): 3, ("north", "recap"): 1}
    with StoreReader(tmp_path / "history.db") as lite, StoreReader(pg_target) as pg:
        want, got = _answers(lite), _answers(pg)
    for name in want:
        assert got[name] == want[name], name
    # the answers are not trivially equal: each question found something, and the thinning thinned
    assert all(want[name] for name in want if name not in ("query-none",)), [n for n in want if not want[n]]
    assert len(want["scores"]) == 60 and len(want["thinned"]) <= 7 and want["query-none"] == []
    assert [h["id"] for h in want["query-case"]] == ["n1"] and [h["id"] for h in want["open"]] == ["n2"]
    assert {s["daemon_id"] for s in want["streams"]} == {"edge-a"}


def test_search_by_meaning_finds_the_same_highlights(tmp_path: Path, pg_target: PostgresTarget,
                                                     engine_folder: Path) -> None:
    from vgsum.runtime.engines.text import load_text_encoder
    from vgsum.runtime.store.search import MeaningSearch, search_highlights

    _write(tmp_path / "history.db", tmp_path / "thumbs-sqlite")
    _write(pg_target, tmp_path / "thumbs-pg")
    text = load_text_encoder(engine_folder, kind="onnxruntime", device="cpu", threads=1)
    for query in ("a red car", "a person", "a bus"):
        search = MeaningSearch(text, query)
        with StoreReader(tmp_path / "history.db") as lite, StoreReader(pg_target) as pg:
            want = [r.id for r in search_highlights(lite, search, limit=10)[0]]
            got = [r.id for r in search_highlights(pg, search, limit=10)[0]]
        assert got == want, query
        if query == "a red car":
            assert want == ["n1"]


def _pg_highlight(conn, hid: str, stream: str, wall: float, clip: Path, thumb: Path) -> None:
    conn.execute(
        'INSERT INTO highlights (id, stream_id, phase, start, "end", wall_start, wall_end, score, objects, query, '
        "clip, thumbnail, created_at, updated_at) VALUES (?, ?, 'end', 0, 5, ?, ?, 0.5, '{}', NULL, ?, ?, ?, ?)",
        (hid, stream, wall - 5, wall, str(clip), str(thumb), wall, wall),
    )


def test_retention_on_postgresql_expires_rows_and_files_and_caps_clips(tmp_path: Path,
                                                                      pg_server: PostgresServer) -> None:
    url = pg_server.url(pg_server.new_database())
    cfg = StoreConfig.model_validate({
        "url": url, "retention": {"keep_days": 7, "clips_max_gb": None},
        "retention_streams": {"door": {"keep_days": 1, "clips_max_gb": 2500 / 1024**3}},
    })
    now = T0
    files = {}
    conn = connect(cfg.target)
    rows = [("cam-old", "cam", 8), ("cam-new", "cam", 6), ("door-old", "door", 2), ("door-a", "door", 0.5),
            ("door-b", "door", 0.4), ("door-c", "door", 0.3)]
    for hid, stream, age in rows:
        clip = tmp_path / "clips" / f"{stream}_{age:09.2f}.mp4"
        thumb = tmp_path / "thumbs" / stream / f"{hid}.jpg"
        for path, size in ((clip, 1000), (thumb, 10)):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"\0" * size)
        files[hid] = (clip, thumb)
        _pg_highlight(conn, hid, stream, now - age * DAY_S, clip, thumb)
    conn.execute("INSERT INTO scores VALUES ('cam', ?, 0, 0.5), ('cam', ?, 0, 0.5)", (now - 8 * DAY_S, now - DAY_S))
    for seq, age in ((1, 9), (2, 8)):  # the newest message stays even when old: the seq resumes after it
        conn.execute("INSERT INTO messages VALUES ('cam', 'event', ?, ?, '{}')", (seq, now - age * DAY_S))
    conn.close()

    report = apply_retention(cfg, now=now)

    assert (report.highlights, report.clips) == (2, 3)  # cam-old, door-old expired; door-a over door's cap
    with StoreReader(cfg.target) as reader:
        assert sorted(h.id for h in reader.highlights()) == ["cam-new", "door-a", "door-b", "door-c"]
        assert reader.highlight("door-a").clip is None and reader.highlight("door-b").clip is not None
        assert len(reader.scores("cam")) == 1
        assert len(reader.messages("cam", "event", 0)) == 1
    for hid, (clip, thumb) in files.items():
        assert clip.exists() == (hid not in ("cam-old", "door-old", "door-a")), hid
        assert thumb.exists() == (hid not in ("cam-old", "door-old")), hid


def test_two_daemons_write_one_database_each_under_its_own_id(tmp_path: Path, pg_target: PostgresTarget) -> None:
    writers = [StoreWriter(pg_target, thumbnails_dir=tmp_path / d, flush_s=0.05, daemon_id=d).start()
               for d in ("edge-a", "edge-b")]
    for k, (writer, stream) in enumerate(zip(writers, ("north", "south"), strict=True)):
        writer.record(StatusMessage(
            stream_id=stream, seq=1, media_time=None, wall_time=T0, state=StreamState.STREAMING, url="file.mp4",
            fps_in=0, fps_out=0, frames_decoded=0, frames_sampled=0, frames_dropped=0, lag_s=0, reconnects=0,
        ))
        writer.record(EventMessage(stream_id=stream, seq=1, media_time=10.0, wall_time=T0 + 10 + k, id=f"{stream}-1",
                                   phase="end", start=1.0, end=10.0, score=0.9, objects={"car": 1}, query=None))
    for writer in writers:
        assert writer.flush(10.0)
        writer.stop()
    with StoreReader(pg_target) as reader:
        assert {(s.stream_id, s.daemon_id) for s in reader.streams()} == {("north", "edge-a"), ("south", "edge-b")}
        assert [h.id for h in reader.highlights()] == ["south-1", "north-1"]


def test_a_daemon_prunes_only_its_own_streams_of_a_shared_database(tmp_path: Path,
                                                                   pg_target: PostgresTarget) -> None:
    cfg = StoreConfig.model_validate({"url": pg_target.url, "retention": {"keep_days": 1, "clips_max_gb": None}})
    conn = connect(cfg.target)
    files = {}
    for hid, stream in (("mine", "north"), ("theirs", "south")):
        clip, thumb = tmp_path / f"{hid}.mp4", tmp_path / "thumbs" / stream / f"{hid}.jpg"
        thumb.parent.mkdir(parents=True, exist_ok=True)
        clip.write_bytes(b"\0" * 10)
        thumb.write_bytes(b"\0" * 10)
        files[hid] = (clip, thumb)
        _pg_highlight(conn, hid, stream, T0 - 5 * DAY_S, clip, thumb)
        conn.execute("INSERT INTO recaps (id, stream_id, since, until, path, json_path, duration, parts, query, "
                     "created_at) VALUES (?, ?, 0, 1, ?, NULL, 1, 1, NULL, ?)",
                     (f"r-{hid}", stream, str(tmp_path / f"r-{hid}.mp4"), T0 - 5 * DAY_S))
    conn.close()
    report = apply_retention(cfg, now=T0, recaps_keep_days=1, only=["north"])
    assert (report.highlights, report.recaps) == (1, 1)
    with StoreReader(cfg.target) as reader:
        assert [h.id for h in reader.highlights()] == ["theirs"] and [r.id for r in reader.recaps()] == ["r-theirs"]
    assert not files["mine"][0].exists() and all(f.exists() for f in files["theirs"])
