"""`vgsum bench store`: what the history costs: writes per highlight and per score, and queries over a day.

Writes go through the real `StoreWriter` into a fresh file (WAL, batched
transactions). Two costs per record: what the publishing thread pays in
`record()` (the pipeline's share: a put into the queue), and what the writer
thread spends until the rows are committed. A highlight is its whole life: the
`start`, one `update` and the `end` event, the `highlight` message and a 192 px
thumbnail (JPEG-encoded by the writer).

The query part fills a store with `--days` of `--streams` streams at camera rates
(final scores at 2 fps, kept at one point per second; `--highlights` a day per
stream) and times the reads the CLI, the control socket and the page make for one
day of one stream.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from vgsum.runtime.store.reader import StoreReader
from vgsum.runtime.store.writer import StoreWriter
from vgsum.stream.messages import EventMessage, HighlightMessage, ScoreMessage

DAY_S = 86_400.0
LABELS = ("person", "car", "bicycle", "dog", "truck")


def _life(stream_id: str, index: int, t: float, wall0: float, seq: int) -> list:
    """The messages of one highlight starting at stream time t: start, update, end, highlight."""
    hid = f"{stream_id}-{index:08d}"
    objects = {LABELS[index % len(LABELS)]: 1 + index % 3}
    common = dict(stream_id=stream_id, start=t, score=0.8, objects=objects, query="a person" if index % 4 else None)
    return [
        EventMessage(seq=seq, media_time=t + 1, wall_time=wall0 + t + 1, id=hid, phase="start", end=t + 1, **common),
        EventMessage(seq=seq + 1, media_time=t + 6, wall_time=wall0 + t + 6, id=hid, phase="update", end=t + 5,
                     **common),
        EventMessage(seq=seq + 2, media_time=t + 12, wall_time=wall0 + t + 12, id=hid, phase="end", end=t + 9,
                     clip=f"/clips/{stream_id}_{t:09.2f}.mp4", **common),
        HighlightMessage(seq=index, media_time=t + 9, wall_time=wall0 + t + 12, end=t + 9,
                         clip=f"/clips/{stream_id}_{t:09.2f}.mp4", **common),
    ]


def _writer(path: Path, queue_size: int) -> StoreWriter:
    return StoreWriter(path, queue_size=queue_size).start()


def bench_writes(folder: Path, highlights: int, scores: int) -> list[str]:
    """Per-record cost on the caller's thread and on the writer's, for highlights and for scores."""
    thumb = (np.random.default_rng(0).random((82, 192, 3)) * 255).astype(np.uint8)
    rows = ["| record | count | caller µs each (mean; a highlight is 5 calls) "
            "| writer thread ms per record (mean, in transactions) | wall s until all committed |",
            "| --- | --- | --- | --- | --- |"]
    writer = _writer(folder / "writes.db", queue_size=highlights * 6 + 16)
    lives = [_life("cam", i, 20.0 * i, 1.7e9, 3 * i) for i in range(highlights)]
    started = time.perf_counter()
    caller = 0.0
    for messages in lives:
        t0 = time.perf_counter()
        for message in messages:
            writer.record(message)
        writer.thumbnail("cam", messages[0].id, thumb)
        caller += time.perf_counter() - t0
    assert writer.flush(600)
    took = time.perf_counter() - started
    writer.stop()
    assert not writer.dropped, writer.dropped
    rows.append(f"| highlight (3 events + highlight + thumbnail) | {highlights} | {1e6 * caller / highlights:.1f} "
                f"| {1e3 * writer.busy_s / highlights:.3f} | {took:.2f} |")

    writer = _writer(folder / "scores.db", queue_size=scores + 16)
    messages = [ScoreMessage(stream_id="cam", seq=i, media_time=i * 0.5, wall_time=1.7e9 + i * 0.5, t=i * 0.5,
                             score=float(i % 100) / 100, final=True) for i in range(scores)]
    started = time.perf_counter()
    for message in messages:
        writer.record(message)
    caller = time.perf_counter() - started
    assert writer.flush(600)
    took = time.perf_counter() - started
    writer.stop()
    assert not writer.dropped, writer.dropped
    rows.append(f"| final score (2 fps, kept 1 per s) | {scores} | {1e6 * caller / scores:.1f} "
                f"| {1e3 * writer.busy_s / scores:.4f} | {took:.2f} |")
    return rows


def fill_days(path: Path, streams: int, days: float, per_day: int) -> float:
    """A store with `days` of `streams` streams; returns the wall time its history starts at."""
    wall0 = time.time() - days * DAY_S
    writer = _writer(path, queue_size=1_000_000)
    span = days * DAY_S
    for s in range(streams):
        sid = f"cam{s}"
        count = int(per_day * days)
        gap = span / max(1, count)
        for i in range(count):
            for message in _life(sid, i, i * gap, wall0, 3 * i):
                writer.record(message)
        for i in range(int(span * 2)):
            t = i * 0.5
            writer.record(ScoreMessage(stream_id=sid, seq=i, media_time=t, wall_time=wall0 + t, t=t,
                                       score=float(np.sin(t / 30.0) ** 2), final=True))
            if i % 50_000 == 0:
                assert writer.flush(600)
    assert writer.flush(600)
    writer.stop()
    assert not writer.dropped, writer.dropped
    return wall0


def _timed(fn, repeat: int) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        size = len(fn())
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times), size


def bench_queries(path: Path, wall0: float, days: float, repeat: int) -> list[str]:
    """Reads of the last whole day of stream cam0 (and the whole store where that is the question)."""
    since = wall0 + (days - 1) * DAY_S
    until = since + DAY_S
    rows = ["| query (one day of one stream unless said) | rows | ms (median) |", "| --- | --- | --- |"]
    with StoreReader(path) as reader:
        cases = {
            "highlights(stream, since, until), default page of 200": lambda: reader.highlights(
                stream_id="cam0", since=since, until=until),
            "highlights(stream, since, until, limit=10000)": lambda: reader.highlights(
                stream_id="cam0", since=since, until=until, limit=10_000),
            "highlights(stream, day, label='dog')": lambda: reader.highlights(
                stream_id="cam0", since=since, until=until, label="dog", limit=10_000),
            "highlights(stream, day, query='person')": lambda: reader.highlights(
                stream_id="cam0", since=since, until=until, query="person", limit=10_000),
            "scores(stream, since, until, max_points=2000)": lambda: reader.scores(
                "cam0", since=since, until=until, max_points=2000),
            "scores(stream, last hour)": lambda: reader.scores("cam0", since=until - 3600, until=until),
            "highlights(): newest 200 of the whole store": lambda: reader.highlights(),
            "messages(stream, event, 100 seqs)": lambda: reader.messages("cam0", "event", 300, 399),
        }
        for name, fn in cases.items():
            ms, size = _timed(fn, repeat)
            rows.append(f"| {name} | {size} | {ms:.2f} |")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vgsum bench store", description=__doc__.splitlines()[0])
    parser.add_argument("--highlights", type=int, default=300, help="highlights written in the write test, and per "
                        "stream and day in the query store (default 300)")
    parser.add_argument("--scores", type=int, default=20_000, help="final scores written in the write test")
    parser.add_argument("--streams", type=int, default=2, help="streams in the query store (default 2)")
    parser.add_argument("--days", type=float, default=1.0, help="days of history in the query store (default 1)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per query (median shown)")
    parser.add_argument("--dir", type=Path, default=None, help="where the files go (default: a temp folder)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        folder = Path(tmp)
        print("\n".join(bench_writes(folder, args.highlights, args.scores)))
        started = time.perf_counter()
        wall0 = fill_days(folder / "days.db", args.streams, args.days, args.highlights)
        size = (folder / "days.db").stat().st_size / 1e6
        print(f"\nquery store: {args.streams} streams x {args.days:g} days, {args.highlights} highlights and "
              f"{int(DAY_S * 2)} final scores per stream-day; {size:.1f} MB, filled in "
              f"{time.perf_counter() - started:.1f} s\n")
        print("\n".join(bench_queries(folder / "days.db", wall0, args.days, args.repeat)))
    return 0
