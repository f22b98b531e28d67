"""`vgsum bench soak --minutes N`: a real daemon for hours; does memory stay flat and does every message arrive?

It starts `vgsum serve` as a child process on paced streams (files looped at native
speed, as cameras) and one RTSP camera (`rtsp_camera.py`) that is killed and
restarted on a schedule, and subscribes to everything over a real SUB socket. It
checks, per (stream, kind), that `seq` has no gaps and, per stream, that every
score sent provisional later comes final and every highlight that started ends.
Every `--interval` seconds it samples the daemon's RSS, threads and open files,
prints a progress line and rewrites the JSON result (so a run cut short still
leaves its figures). At the end it stops the daemon with SIGTERM, which must flush
and exit 0, and prints the summary: RSS after warm-up against the end (growth %),
the most threads and files, seq gaps, missing finals, reconnects.

A benchmark, not a test: the figures go into BENCHMARKS.md ("Soak").
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vgsum.stream.errors import UserError
from vgsum.stream.sampler import DEFAULT_SAMPLE_FPS

READY_TIMEOUT_S = 180.0
HELD_LAG_S = 2.0  # a stream more than this behind its source has not held the rate


def proc_figures(pid: int) -> tuple[float, int, int]:
    """(RSS in MiB, threads, open file descriptors) of process `pid`, from /proc."""
    rss, threads = 0.0, 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) / 1024
        elif line.startswith("Threads:"):
            threads = int(line.split()[1])
    return rss, threads, len(os.listdir(f"/proc/{pid}/fd"))


@dataclass
class Ledger:
    """What the subscriber saw: seq continuity per (stream, kind), scores waiting to turn final, open highlights."""

    messages: int = 0
    gaps: int = 0
    missing_messages: int = 0
    restarts: int = 0
    pending: dict[str, set[float]] = field(default_factory=lambda: defaultdict(set))  # provisional, no final yet
    finals: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    open_events: set[str] = field(default_factory=set)
    events_started: int = 0
    events_ended: int = 0
    reconnects: dict[str, int] = field(default_factory=dict)
    states: dict[str, str] = field(default_factory=dict)
    # per stream, from its status messages: frames sampled, dropped and gated (cumulative), and the worst lag
    sampled: dict[str, int] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    gated: dict[str, int] = field(default_factory=dict)
    max_lag_s: dict[str, float] = field(default_factory=dict)
    baseline: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # (sampled, dropped, gated) at start

    def take(self, received: Any) -> None:
        """Record one `Received` from the Subscriber (its gap check already ran)."""
        message = received.message
        self.messages += 1
        if received.gap is not None:
            self.gaps += 1
            self.missing_messages += received.gap.missing
        self.restarts += int(received.restarted)
        kind, sid = message.kind, message.stream_id
        if kind == "score":
            if message.final:
                self.finals[sid] += 1
                self.pending[sid].discard(message.t)
            else:
                self.pending[sid].add(message.t)
        elif kind == "event":
            if message.phase == "start":
                self.events_started += 1
                self.open_events.add(message.id)
            elif message.phase == "end":
                self.events_ended += 1
                self.open_events.discard(message.id)
        elif kind == "status":
            self.reconnects[sid] = message.reconnects
            self.states[sid] = message.state.value
            self.sampled[sid] = message.frames_sampled
            self.dropped[sid] = message.frames_dropped
            self.gated[sid] = message.frames_gated or 0
            if self.baseline:  # measuring: the engines' warm-up is behind
                self.max_lag_s[sid] = max(self.max_lag_s.get(sid, 0.0), message.lag_s)

    def start_measuring(self) -> None:
        """Count frames from here on: what was dropped while the engines loaded is not the steady state."""
        self.baseline = {sid: (self.sampled[sid], self.dropped[sid], self.gated.get(sid, 0)) for sid in self.sampled}
        self.max_lag_s.clear()

    def held(self, seconds: float, fps: float, max_lag_s: float = HELD_LAG_S) -> dict[str, dict[str, float]]:
        """Per stream since `start_measuring`: frames sampled, dropped and gated, the rate, the worst lag, and
        whether it held the sampling rate (nothing dropped, never `max_lag_s` behind, at least 90 % of the frames)."""
        out = {}
        for sid, sampled in self.sampled.items():
            base = self.baseline.get(sid, (0, 0, 0))
            n, dropped, gated = sampled - base[0], self.dropped[sid] - base[1], self.gated.get(sid, 0) - base[2]
            lag = self.max_lag_s.get(sid, 0.0)
            out[sid] = {"sampled": n, "dropped": dropped, "gated": gated, "rate": round(n / seconds, 3),
                        "max_lag_s": round(lag, 2),
                        "held": dropped == 0 and lag < max_lag_s and n >= 0.9 * fps * seconds}
        return out

    def missing_finals(self) -> int:
        """Scores sent provisional that have no final one (yet, while running)."""
        return sum(len(ts) for ts in self.pending.values())


def staggered(video: Path, count: int, folder: Path) -> list[Path]:
    """`count` copies of `video`, the i-th starting at the keyframe nearest i/count of it and wrapping round.

    Packets are copied (runtime/recap's writer), so each copy is the same footage at the same quality.
    """
    from vgsum.runtime.recap.clips import index_clip
    from vgsum.runtime.recap.video import Segment, write_recap

    index = index_clip(video)
    copies = []
    for i in range(count):
        at = float(index.keyframes[int(abs(index.keyframes - i * index.duration / count).argmin())])
        if at <= 0.0:
            copies.append(video)
            continue
        out = folder / f"stagger{i:03d}.mp4"
        parts = [Segment(video, at, index.duration, ""), Segment(video, 0.0, at, "")]
        write_recap(parts, [index.format, index.format], out)
        copies.append(out)
    return copies


def _config(streams: list[dict], port: int, engines: str | None, log_level: str, history: Path) -> dict:
    return {
        "streams": streams,
        "publish": {"endpoints": [f"pub+bind:tcp://127.0.0.1:{port}"], "frame_messages": True,
                    "status_interval_s": 2.0, "sndhwm": 100000},
        "engines": {"dir": engines, "threads": 1},
        "control": {"enabled": False},
        "metrics": {"enabled": False},
        "web": {"port": 0},
        "store": {"path": str(history)},  # the history is written and measured, but never into the user's
        "log_level": log_level,
    }


def summarize(samples: list[dict], warmup_s: float) -> dict[str, float | None]:
    """RSS after warm-up (mean of the first 3 samples past it) against the end (mean of the last 3)."""
    after = [s for s in samples if s["t_s"] >= warmup_s]
    if len(after) < 2:
        return {"rss_warm_mb": None, "rss_end_mb": None, "rss_growth_pct": None}
    head, tail = after[:3], after[-3:] if len(after) >= 6 else after[-1:]
    warm = statistics.fmean(s["rss_mb"] for s in head)
    end = statistics.fmean(s["rss_mb"] for s in tail)
    growth = round(100 * (end / warm - 1), 2)
    return {"rss_warm_mb": round(warm, 1), "rss_end_mb": round(end, 1), "rss_growth_pct": growth}


def write_json(path: Path | None, result: dict) -> None:
    """Replace `path` atomically: a reader (or a run killed mid-write) never sees half a file."""
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(result, indent=1))
    tmp.replace(path)


def main(argv: list[str]) -> int:
    """Parse the options, run the soak, print and write the figures; 0 when every check held."""
    parser = argparse.ArgumentParser(prog="vgsum bench soak", description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, required=True, help="how long the daemon runs")
    parser.add_argument("--streams", type=int, default=3, help="streams in all: looped files plus one RTSP camera")
    parser.add_argument("--sample-fps", type=float, default=DEFAULT_SAMPLE_FPS)
    parser.add_argument("--video", type=Path, help="the file the streams loop (default: the bundled sample)")
    parser.add_argument("--engines", help="engine folder (default: the daemon's default)")
    parser.add_argument("--restart-every", type=float, default=300.0, help="seconds between camera power cuts")
    parser.add_argument("--down-s", type=float, default=3.0, help="how long the camera stays off")
    parser.add_argument("--no-camera", action="store_true", help="files only (no GStreamer here)")
    parser.add_argument("--no-gate", action="store_true",
                        help="every stream with its perception gate off (on by default)")
    parser.add_argument("--stagger", action="store_true",
                        help="each file stream starts at its own point of the video (copies rotated on keyframes), "
                        "so their busy moments do not all come at once, as with real cameras")
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between samples")
    parser.add_argument("--warmup-minutes", type=float, help="default: a quarter of the run, at most 10")
    parser.add_argument("--json", type=Path, help="write the result here (rewritten at every sample)")
    parser.add_argument("--log", type=Path, help="the daemon's log (default: a file in a temporary folder)")
    args = parser.parse_args(argv)
    if args.minutes <= 0 or args.streams < 1 or args.interval <= 0:
        raise UserError("--minutes, --streams and --interval must be positive")
    from vgsum.runtime.bench.ingest import cpu_model
    from vgsum.runtime.bench.rtsp_camera import RtspCamera, free_port, missing_rtsp_server
    from vgsum.runtime.common.sample import bundled_sample
    from vgsum.stream.subscribe import Subscriber

    video = args.video or bundled_sample()
    if not Path(video).is_file():
        raise UserError(f"video {video} does not exist")
    camera: RtspCamera | None = None
    files = args.streams
    if not args.no_camera:
        reason = missing_rtsp_server()
        if reason is not None:
            raise UserError(f"no RTSP camera: {reason}; pass --no-camera to soak files only")
        camera = RtspCamera(Path(video))
        camera.start()
        files -= 1
    fps = args.sample_fps
    workdir = Path(tempfile.mkdtemp(prefix="vgsum-soak-"))
    videos = staggered(Path(video), files, workdir) if args.stagger else [Path(video)] * files
    streams = [{"stream_id": f"file{i}", "url": str(videos[i]), "realtime": True, "loop": True, "sample_fps": fps}
               for i in range(files)]
    if args.no_gate:
        for stream in streams:
            stream["gate"] = {"enabled": False}
    if camera is not None:
        streams.append({"stream_id": "cam", "url": camera.url("live"), "sample_fps": fps, "long_side": 320,
                        "open_timeout_s": 5, "read_timeout_s": 3, "stall_after_s": 6, "backoff_initial_s": 0.5,
                        "backoff_max_s": 2.0})
    port = free_port()
    config = workdir / "edge.yaml"
    import yaml

    config.write_text(yaml.safe_dump(_config(streams, port, args.engines, "INFO", workdir / "history.db")))
    duration = args.minutes * 60
    warmup = 60 * (args.warmup_minutes if args.warmup_minutes is not None else min(10.0, args.minutes / 4))
    result: dict[str, Any] = {
        "command": "vgsum bench soak " + " ".join(argv),
        "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "host": {"cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version()},
        "streams": [s["stream_id"] for s in streams],
        "sample_fps": fps,
        "warmup_s": warmup,
        "samples": [],
        "summary": {},
    }
    log_path = args.log or workdir / "daemon.log"  # a file, never a pipe: a full pipe would block the daemon
    log_file = open(log_path, "w")  # noqa: SIM115 - open for the child's whole life
    daemon = subprocess.Popen(
        [sys.executable, "-m", "vgsum.runtime.cli", "serve", "--config", str(config)],
        stdout=log_file, stderr=subprocess.STDOUT, text=True,
    )
    ledger = Ledger()
    camera_cuts = 0
    code: int | None = None
    exit_s: float | None = None
    try:
        with Subscriber(f"tcp://127.0.0.1:{port}", rcvhwm=100000) as sub:
            ready_by = time.monotonic() + READY_TIMEOUT_S  # the clock starts with the first score (engines loaded)
            while not ledger.finals and time.monotonic() < ready_by and daemon.poll() is None:
                received = sub.recv(0.1)
                if received is not None:
                    ledger.take(received)
            if not ledger.finals:
                raise UserError(f"the daemon scored nothing within {READY_TIMEOUT_S:g} s; see {log_path}")
            wait_for_status = time.monotonic() + 5.0  # every stream's counters before the clock starts
            while len(ledger.sampled) < len(streams) and time.monotonic() < wait_for_status:
                received = sub.recv(0.1)
                if received is not None:
                    ledger.take(received)
            ledger.start_measuring()
            started = time.monotonic()
            next_sample = started + args.interval
            next_cut = started + args.restart_every
            while time.monotonic() - started < duration and daemon.poll() is None:
                received = sub.recv(0.1)
                if received is not None:
                    ledger.take(received)
                now = time.monotonic()
                if camera is not None and now >= next_cut:
                    camera.kill()  # power cut: the daemon must reconnect, and flush the epoch it lost
                    camera_cuts += 1
                    cut_end = now + args.down_s
                    while time.monotonic() < cut_end:
                        received = sub.recv(0.1)
                        if received is not None:
                            ledger.take(received)
                    camera.start()
                    next_cut = time.monotonic() + args.restart_every
                if now >= next_sample:
                    next_sample += args.interval
                    rss, threads, fds = proc_figures(daemon.pid)
                    sample = {"t_s": round(now - started, 1), "rss_mb": round(rss, 1), "threads": threads, "fds": fds,
                              "messages": ledger.messages, "seq_gaps": ledger.gaps, "pending_finals":
                              ledger.missing_finals(), "open_events": len(ledger.open_events),
                              "reconnects": sum(ledger.reconnects.values())}
                    result["samples"].append(sample)
                    result["summary"] = {**summarize(result["samples"], warmup), "running": True}
                    write_json(args.json, result)
                    growth = result["summary"]["rss_growth_pct"]
                    print(f"[soak {sample['t_s']:7.0f}s] rss {rss:7.1f} MiB"
                          f"{'' if growth is None else f' ({growth:+.2f} % since warm-up)'} threads {threads} "
                          f"fds {fds} msgs {ledger.messages} gaps {ledger.gaps} "
                          f"pending {sample['pending_finals']} reconnects {sample['reconnects']}", flush=True)
            if daemon.poll() is None:
                t0 = time.monotonic()
                daemon.send_signal(signal.SIGTERM)
                drain_until = t0 + 30
                while time.monotonic() < drain_until:
                    received = sub.recv(0.1)
                    if received is not None:
                        ledger.take(received)
                    if daemon.poll() is not None and exit_s is None:
                        exit_s = time.monotonic() - t0
                        drain_until = min(drain_until, time.monotonic() + 1.0)  # the last messages in flight
            code = daemon.wait(timeout=30)
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        if camera is not None:
            camera.stop()
        log_file.close()
    log_tail = log_path.read_text(errors="replace")[-2000:]
    samples = result["samples"]
    per_stream = ledger.held(duration, fps)
    result["streams_held"] = per_stream
    summary = {
        **summarize(samples, warmup),
        "rss_peak_mb": max((s["rss_mb"] for s in samples), default=None),
        "max_threads": max((s["threads"] for s in samples), default=None),
        "max_fds": max((s["fds"] for s in samples), default=None),
        "messages": ledger.messages,
        "seq_gaps": ledger.gaps,
        "missing_messages": ledger.missing_messages,
        "missing_finals": ledger.missing_finals(),
        "finals": sum(ledger.finals.values()),
        "events_started": ledger.events_started,
        "open_events": len(ledger.open_events),
        "camera_cuts": camera_cuts,
        "reconnects": ledger.reconnects,
        "held": sum(s["held"] for s in per_stream.values()),
        "dropped": sum(s["dropped"] for s in per_stream.values()),
        "gated_share": round(sum(s["gated"] for s in per_stream.values())
                             / max(1, sum(s["sampled"] for s in per_stream.values())), 3),
        "max_lag_s": max((s["max_lag_s"] for s in per_stream.values()), default=None),
        "exit_code": code,
        "exit_s": None if exit_s is None else round(exit_s, 2),
        "aborted": "terminate called" in log_tail or "Fatal Python error" in log_tail,
        "running": False,
    }
    result["summary"] = summary
    result["finished"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    write_json(args.json, result)
    print(json.dumps({k: v for k, v in summary.items() if k != "running"}, indent=1))
    if code != 0:
        print(log_tail, file=sys.stderr)
    ok = code == 0 and not summary["aborted"]
    ok = ok and ledger.gaps == 0 and ledger.missing_finals() == 0 and not ledger.open_events
    return 0 if ok else 1

