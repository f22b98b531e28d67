"""One stream's live path on real engines and real frames: what it owns from frame to frame.

The room clip's first visit (a person walks in at 6 s) gives a highlight; a reconnect in the
middle of it (a new ingest epoch) must end that highlight at the break, start the scene's
foreground model over (the view may differ after a reconnect), record one gap, and let a
new highlight start on the far side. Queries set from another thread apply from the next
frame and name the highlights they match.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from vgsum.runtime.engines.config import EngineConfig
from vgsum.runtime.engines.loader import Engines
from vgsum.runtime.live.sinks import StreamSinks
from vgsum.runtime.live.stream import LiveStream
from vgsum.runtime.summary.config import SummaryConfig
from vgsum.runtime.summary.queries import StreamQueries
from vgsum.runtime.summary.summarizer import HighlightEvent, ScoreEvent
from vgsum.stream.ingest import SampledFrame

pytestmark = pytest.mark.slow


def _run(engines: Engines, frames, epoch_of, queries=()) -> tuple[LiveStream, list[ScoreEvent], list[HighlightEvent]]:
    scores: list[ScoreEvent] = []
    highlights: list[HighlightEvent] = []
    registry = StreamQueries()
    registry.add("room", queries)
    sinks = StreamSinks(on_score=lambda _s, e: scores.append(e), on_highlight=lambda _s, e: highlights.append(e))
    live = LiveStream("room", 2.0, SummaryConfig(), engines, registry, sinks)
    for seq, (t, rgb) in enumerate(frames):
        frame = SampledFrame("room", seq, epoch_of(t), t, t, 0.0, rgb)
        perceived = engines.perception([rgb])[0]
        live.take(frame, perceived, engines.refiner.nodes([live.refiner_input(perceived)])[0])
    live.finish()
    return live, scores, highlights


def test_a_reconnect_ends_the_highlight_restarts_the_scene_and_counts_a_gap(engine_folder: Path, room_frames) -> None:
    engines = Engines.load(EngineConfig(dir=engine_folder, threads=1))
    live, scores, highlights = _run(engines, room_frames, epoch_of=lambda t: 0 if t < 12.0 else 1, queries=["person"])
    assert live.frames == len(room_frames) and live.finished
    assert live.gaps == 1
    assert [s.t for s in scores if s.final] == [t for t, _ in room_frames]  # every frame one final score
    ends = [h for h in highlights if h.phase == "end"]
    assert len(ends) >= 2, ends
    assert ends[0].end <= 12.0 + 1e-9 and ends[0].epoch == 0  # ended at the break, never across it
    assert any(h.epoch == 1 and h.start >= 12.0 for h in ends)  # the visit goes on after the reconnect
    assert all(h.query == "person" for h in ends)  # the query names what it matched
    assert all(h.thumbnail is not None and h.thumbnail.shape[1] <= 192 for h in ends)
    # the foreground started over at the break: the scene's model is only as old as the new epoch
    assert live.epoch == 1
    unbroken, _, _ = _run(engines, room_frames, epoch_of=lambda t: 0)
    assert unbroken.gaps == 0 and unbroken.epoch == 0


def test_queries_changed_from_outside_apply_from_the_next_frame(engine_folder: Path, room_frames) -> None:
    engines = Engines.load(EngineConfig(dir=engine_folder, threads=1))
    registry = StreamQueries()
    registry.add("room")
    sinks = StreamSinks(on_score=lambda _s, e: None, on_highlight=lambda _s, e: None)
    live = LiveStream("room", 2.0, SummaryConfig(), engines, registry, sinks)
    visit = [(t, rgb) for t, rgb in room_frames if t >= 8.5][:2]  # the first person walks to the table
    perceived = engines.perception([visit[0][1]])[0]
    assert "person" in perceived.labels
    assert live.refiner_input(perceived).queries.shape[0] == len(set(perceived.labels))  # words only, no query
    assert live.queries.frame(perceived, visit[0][1], None).matches == {}
    registry.set("room", ["someone walks into the room", "a skateboard"])
    rows = live.refiner_input(perceived).queries
    assert rows.shape[0] == len(set(perceived.labels)) + 2  # the two queries as sentence-level rows
    matched = live.queries.frame(perceived, visit[1][1], None).matches
    assert set(matched) == {"someone walks into the room"}, matched  # a sentence finds the person; noise no skateboard


def test_a_structural_summary_change_mid_visit_starts_the_summary_afresh(engine_folder: Path, room_frames) -> None:
    engines = Engines.load(EngineConfig(dir=engine_folder, threads=1))
    scores: list[ScoreEvent] = []
    highlights: list[HighlightEvent] = []
    registry = StreamQueries()
    registry.add("room")
    sinks = StreamSinks(on_score=lambda _s, e: scores.append(e), on_highlight=lambda _s, e: highlights.append(e))
    live = LiveStream("room", 2.0, SummaryConfig(), engines, registry, sinks)
    for seq, (t, rgb) in enumerate(room_frames):
        if t == 12.0:  # mid-visit, from the control thread in a daemon
            live.change_summary({"window": 32, "stride": 4, "events": {"end_s": 2.0}})
        perceived = live.kept(engines.perception([rgb])[0])
        live.take(SampledFrame("room", seq, 0, t, t, 0.0, rgb), perceived,
                  engines.refiner.nodes([live.refiner_input(perceived)])[0])
    live.finish()
    assert [s.t for s in scores if s.final] == [t for t, _ in room_frames]  # every frame one final score
    ends = [h for h in highlights if h.phase == "end"]
    assert len(ends) >= 2 and ends[0].end <= 12.0 + 1e-9  # the open highlight ended at the change
    assert any(h.start >= 12.0 for h in ends)  # the visit goes on under the new summary
    assert live.summary.window == 32 and live.summarizer.cfg.events.end_s == 2.0 and live.gaps == 0
