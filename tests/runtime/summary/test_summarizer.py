"""One stream's live summary on synthetic frames: score life cycle, gaps, highlights, queries."""

from __future__ import annotations

import numpy as np
import pytest
from summary_feed import EpochFeed

from vgsum.runtime.summary.config import SummaryConfig
from vgsum.runtime.summary.selection import build_summarizer
from vgsum.runtime.summary.summarizer import FrameInput, HighlightEvent, ScoreEvent

FPS = 2.0


def _run(frames: list[FrameInput], cfg: SummaryConfig | None = None, window_fn=None):
    scores: list[ScoreEvent] = []
    highlights: list[HighlightEvent] = []
    windows: list[np.ndarray] = []

    def default_window(nodes: np.ndarray) -> np.ndarray:
        windows.append(nodes.copy())
        return 1.0 / (1.0 + np.exp(-nodes[:, 0]))

    summarizer = EpochFeed(build_summarizer(
        cfg or SummaryConfig(selection="knapsack", window=16, stride=4),
        node_dim=frames[0].node.shape[0],
        window_fn=window_fn or default_window,
        sample_fps=FPS,
        on_score=scores.append,
        on_highlight=highlights.append,
    ))
    for frame in frames:
        summarizer.add(frame)
    summarizer.finish()
    return scores, highlights, windows


def _frames(importance: np.ndarray, scenes: np.ndarray, epochs: np.ndarray | None = None, matches=None):
    rng = np.random.default_rng(0)
    basis = rng.normal(size=(int(scenes.max()) + 1, 32))
    out = []
    for i, (value, scene) in enumerate(zip(importance, scenes, strict=True)):
        node = np.zeros(4, np.float32)
        node[0] = value
        node[1] = 0 if epochs is None else epochs[i]
        feature = basis[scene] + 0.01 * rng.normal(size=32)
        out.append(
            FrameInput(
                media_time=i / FPS,
                epoch=0 if epochs is None else int(epochs[i]),
                node=node,
                frame_feature=feature,
                labels=["person"] * (2 if value > 0 else 0),
                query_match=(matches or {}).get(i, {}),
                thumbnail=np.zeros((4, 4, 3), np.uint8),
            )
        )
    return out


def test_every_frame_gets_one_final_score_that_never_changes() -> None:
    n = 100
    scores, _, _ = _run(_frames(np.linspace(-3, 3, n), np.arange(n) // 10))
    finals = [s for s in scores if s.final]
    assert [s.t for s in finals] == [i / FPS for i in range(n)]
    assert all(0.0 <= s.score <= 1.0 for s in scores)
    final_at = {event.t: index for index, event in enumerate(scores) if event.final}
    for index, event in enumerate(scores):  # nothing about a frame is sent after its final score
        assert index <= final_at[event.t]


def test_provisional_scores_come_before_the_final_one() -> None:
    n = 40
    scores, _, _ = _run(_frames(np.zeros(n), np.arange(n) // 8))
    for t in {s.t for s in scores}:
        events = [s for s in scores if s.t == t]
        assert events[-1].final and sum(e.final for e in events) == 1
        assert all(not e.final for e in events[:-1])


def test_a_gap_never_mixes_epochs_in_a_window() -> None:
    n = 60
    epochs = np.repeat([0, 1, 2], 20)
    scores, _, windows = _run(_frames(np.zeros(n), np.arange(n) // 10, epochs=epochs))
    assert windows and all(len(set(w[:, 1])) == 1 for w in windows)
    assert len([s for s in scores if s.final]) == n


def test_an_important_scene_becomes_a_highlight_and_a_static_video_gives_none() -> None:
    n = 160
    scenes = np.arange(n) // 8  # a new scene every 4 s
    importance = np.full(n, -2.0)
    importance[80:96] = 3.0  # two scenes that matter, 8 s
    _, highlights, _ = _run(_frames(importance, scenes), SummaryConfig(selection="knapsack", window=16, stride=4))
    assert highlights, "the important scenes made no highlight"
    covered = sum(min(h.end, 48.0) - max(h.start, 40.0) for h in highlights if h.end > 40 and h.start < 48)
    total = sum(h.end - h.start for h in highlights)
    assert covered / total > 0.8
    assert highlights[0].objects == {"person": 2}

    _, static, _ = _run(
        _frames(np.zeros(n), np.zeros(n, int)), SummaryConfig(selection="knapsack", window=16, stride=4)
    )
    assert static == []


def test_a_matching_query_raises_scores_and_names_itself() -> None:
    n = 120
    scenes = np.arange(n) // 8
    matches = {i: {"person": 1.0} for i in range(48, 64)}
    scores, highlights, _ = _run(
        _frames(np.zeros(n), scenes, matches=matches), SummaryConfig(selection="knapsack", window=16, stride=4)
    )
    final = {s.t: s.score for s in scores if s.final}
    assert np.mean([final[i / FPS] for i in range(48, 64)]) > np.mean([final[i / FPS] for i in range(0, 40)]) + 0.2
    assert highlights and all(h.query == "person" for h in highlights)
    assert all(h.start >= 24.0 - 1e-6 and h.end <= 32.0 + 1e-6 for h in highlights)


def test_every_frame_is_scored_when_it_arrives() -> None:
    frames = _frames(np.linspace(-2, 2, 30), np.arange(30) // 6)
    seen: list[ScoreEvent] = []
    summarizer = EpochFeed(build_summarizer(
        SummaryConfig(selection="knapsack", window=16, stride=8),
        node_dim=4,
        window_fn=lambda nodes: 1.0 / (1.0 + np.exp(-nodes[:, 0])),
        sample_fps=FPS,
        on_score=seen.append,
        on_highlight=lambda event: None,
    ))
    for frame in frames:
        summarizer.add(frame)
        assert any(event.t == frame.media_time for event in seen), f"frame at {frame.media_time} s waits"
    late = EpochFeed(build_summarizer(
        SummaryConfig(selection="knapsack", window=16, stride=8, early_scores=False),
        node_dim=4,
        window_fn=lambda nodes: np.full(len(nodes), 0.5),
        sample_fps=FPS,
        on_score=seen.append,
        on_highlight=lambda event: None,
    ))
    seen.clear()
    late.add(frames[0])
    assert seen == []  # without early scores the first frame waits for the window S frames later


@pytest.mark.parametrize(("cut", "shot_delay"), [("threshold", 0.0), ("kts", 10.0)])
def test_a_highlight_arrives_its_delays_after_the_shot(cut: str, shot_delay: float) -> None:
    n = 300  # 150 s; the scenes that matter end at 48 s
    scenes = np.arange(n) // 8
    importance = np.full(n, -2.0)
    importance[80:96] = 3.0
    arrived: list[tuple[float, HighlightEvent]] = []
    clock = [0.0]
    summarizer = EpochFeed(build_summarizer(
        SummaryConfig(
            selection="knapsack", window=16, stride=4, decision_delay_s=10.0, shot_cut=cut, shot_delay_s=shot_delay
        ),
        node_dim=4,
        window_fn=lambda nodes: 1.0 / (1.0 + np.exp(-nodes[:, 0])),
        sample_fps=FPS,
        on_score=lambda event: None,
        on_highlight=lambda event: arrived.append((clock[0], event)),
    ))
    for frame in _frames(importance, scenes):
        clock[0] = frame.media_time
        summarizer.add(frame)
    assert arrived, "no highlight before the end of the stream"
    late = 10.0 + shot_delay  # the shot's end is final shot_delay after it, then it is decided 10 s on
    for seen_at, event in arrived:  # plus at most a stride for scores and a shot (the next one's end decides)
        assert event.end + late - 1e-6 <= seen_at + 1.0 / FPS <= event.end + late + 4 / FPS + 12.0


@pytest.mark.parametrize("cut", ["kts", "threshold"])
def test_no_shot_spans_a_reconnect(cut: str) -> None:
    n = 240
    epochs = np.repeat([0, 1], n // 2)  # the stream reconnects at frame 120, in the middle of one scene
    scenes = np.arange(n) // 40
    importance = np.full(n, -2.0)
    importance[100:140] = 3.0  # what matters straddles the gap
    _, highlights, _ = _run(
        _frames(importance, scenes, epochs=epochs),
        SummaryConfig(selection="knapsack", window=16, stride=4, shot_cut=cut, shot_delay_s=5.0, decision_delay_s=5.0),
    )
    gap_t = 120 / FPS
    assert highlights, "the important scenes made no highlight"
    assert all(h.end <= gap_t + 1e-9 or h.start >= gap_t - 1e-9 for h in highlights), highlights
    assert all((h.start >= gap_t - 1e-9) == (h.epoch == 1) for h in highlights)
