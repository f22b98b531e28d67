"""The history writer on real sockets and a real SQLite file: rows per kind, downsampling, drops, seq resume."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from vgsum.runtime.store.reader import StoreReader
from vgsum.runtime.store.writer import StoreWriter
from vgsum.stream.messages import EventMessage, HighlightMessage, ScoreMessage, StatusMessage
from vgsum.stream.publish import Publisher
from vgsum.stream.state import StreamState


def _status(pub: Publisher, stream_id: str, state: StreamState, error: str | None = None) -> None:
    pub.publish(
        StatusMessage, stream_id, state=state, url="rtsp://***@cam/1", fps_in=0, fps_out=0, frames_decoded=0,
        frames_sampled=0, frames_dropped=0, lag_s=0, reconnects=0, last_error=error,
    )


def _event(pub: Publisher, stream_id: str, hid: str, phase: str, start: float, end: float, at: float, **more):
    fields = dict(start=start, end=end, score=0.7, objects={"car": 2}, query=None)
    fields.update(more)
    pub.publish(EventMessage, stream_id, media_time=at, id=hid, phase=phase, **fields)
    if phase == "end":
        pub.publish(HighlightMessage, stream_id, media_time=end, **fields)


@pytest.fixture
def publisher():
    pub = Publisher(["pub+bind:tcp://127.0.0.1:*"])
    yield pub
    pub.close()


def test_a_highlights_life_its_scores_and_states_land_in_the_store(tmp_path: Path, publisher: Publisher) -> None:
    writer = StoreWriter(tmp_path / "history.db", flush_s=0.05).start()
    publisher.observers.append(writer.record)
    _status(publisher, "cam", StreamState.CONNECTING)
    _status(publisher, "cam", StreamState.STREAMING)
    _status(publisher, "cam", StreamState.STREAMING)  # periodic, unchanged: no new state row
    for i in range(12):  # 2 fps for 6 s; provisional ones are not kept
        t = i * 0.5
        publisher.publish(ScoreMessage, "cam", media_time=t, t=t, score=0.1 + 0.05 * i, final=True)
        publisher.publish(ScoreMessage, "cam", media_time=t, t=t, score=0.99, final=False)
    before = time.time()
    _event(publisher, "cam", "h1", "start", 2.0, 2.5, at=3.0)
    _event(publisher, "cam", "h1", "update", 2.0, 7.0, at=8.0, objects={"car": 3, "person": 1})
    writer.thumbnail("cam", "h1", np.full((40, 64, 3), 200, np.uint8))
    _event(publisher, "cam", "h1", "end", 2.0, 9.0, at=12.0, clip="/clips/cam_000002.00.mp4", query="red car")
    assert writer.flush(5.0)

    with StoreReader(tmp_path / "history.db") as reader:
        (row,) = reader.highlights(stream_id="cam")
        assert (row.id, row.phase, row.start, row.end, row.closed) == ("h1", "end", 2.0, 9.0, True)
        assert row.objects == {"car": 2} and row.query == "red car" and row.clip == "/clips/cam_000002.00.mp4"
        # wall times from the message: sent at media time 12 -> start was 10 s of stream time earlier
        assert before - 10.5 < row.wall_start < time.time() - 9.5
        assert row.wall_end - row.wall_start == pytest.approx(7.0, abs=0.01)
        assert Path(row.thumbnail).read_bytes()[:2] == b"\xff\xd8"  # a JPEG
        assert reader.highlights(label="person") == [] and reader.highlights(query="RED")[0].id == "h1"
        assert [s.state for s in reader.states("cam")] == ["connecting", "streaming"]
        assert reader.streams()[0].url == "rtsp://***@cam/1"
        points = reader.scores("cam")
        assert [p.t for p in points] == [0.5, 1.5, 2.5, 3.5, 4.5, 5.5]  # one per second: its peak
        assert all(p.score < 0.9 for p in points)
        peaks = reader.scores("cam", max_points=2)  # thinned: each half of the span by its peak
        middle = (points[0].wall_time + points[-1].wall_time) / 2  # the halves follow the send times
        halves = [[p for p in points if p.wall_time < middle], [p for p in points if p.wall_time >= middle]]
        assert [p.t for p in peaks] == [max(h, key=lambda p: p.score).t for h in halves]
        assert peaks[1].score == max(p.score for p in points)
        events = reader.messages("cam", "event", 0)
        assert [m.count('"phase"') for m in events] == [1, 1, 1] and '"phase":"end"' in events[2]
        assert len(reader.messages("cam", "highlight", 0)) == 1
        assert reader.messages("cam", "event", 1, 1) == [events[1]]
    writer.stop()
    assert sum(writer.dropped.values()) == 0


def test_an_open_highlight_is_stored_at_its_start_and_an_update_never_reopens_an_end(
    tmp_path: Path, publisher: Publisher
) -> None:
    writer = StoreWriter(tmp_path / "h.db", flush_s=0.05).start()
    publisher.observers.append(writer.record)
    _event(publisher, "cam", "h2", "start", 1.0, 1.5, at=2.0)
    assert writer.flush()
    with StoreReader(tmp_path / "h.db") as reader:
        assert reader.highlight("h2").phase == "start" and not reader.highlight("h2").closed
    _event(publisher, "cam", "h2", "end", 1.0, 4.0, at=6.0)
    writer.record(EventMessage(stream_id="cam", seq=0, media_time=2.0, wall_time=time.time(), id="h2",
                               phase="update", start=1.0, end=2.0, score=0.5))  # a late replayed update
    writer.stop()
    with StoreReader(tmp_path / "h.db") as reader:
        row = reader.highlight("h2")
        assert (row.phase, row.end) == ("end", 4.0)


def test_a_full_queue_drops_and_counts_instead_of_blocking(tmp_path: Path, publisher: Publisher) -> None:
    writer = StoreWriter(tmp_path / "d.db", queue_size=16, batch=1, flush_s=0.05).start()
    message = ScoreMessage(stream_id="cam", seq=0, media_time=0.0, wall_time=time.time(), t=0.0, score=0.5, final=True)
    started = time.perf_counter()
    for i in range(20_000):
        writer.record(message.model_copy(update={"t": float(i)}))
    took = time.perf_counter() - started
    writer.stop(timeout_s=2.0)
    assert writer.dropped["cam"] > 0
    assert took < 2.0, f"record() waited: {took:.2f} s for 20000 calls"
    with StoreReader(tmp_path / "d.db") as reader:
        stored = len(reader.scores("cam", max_points=100_000))
    assert stored + writer.dropped["cam"] <= 20_000 and stored > 0


def test_the_publisher_resumes_seq_after_the_stored_ones(tmp_path: Path) -> None:
    db = tmp_path / "seq.db"
    for run in range(2):
        writer = StoreWriter(db, flush_s=0.05).open()
        pub = Publisher(["pub+bind:tcp://127.0.0.1:*"])
        pub.resume(writer.max_seqs())
        writer.start()
        pub.observers.append(writer.record)
        _event(pub, "cam", f"r{run}", "start", 0.0, 1.0, at=1.0)
        _event(pub, "cam", f"r{run}", "end", 0.0, 2.0, at=3.0)
        pub.close()
        writer.stop()
    with StoreReader(db) as reader:
        events = reader.messages("cam", "event", 0)
        highlights = reader.messages("cam", "highlight", 0)
    assert [f'"seq":{i},' in m for i, m in enumerate(events)] == [True] * 4
    assert [f'"seq":{i},' in m for i, m in enumerate(highlights)] == [True] * 2
