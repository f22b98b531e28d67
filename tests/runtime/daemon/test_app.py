"""The summary service on real video: engines, summarizer, ZeroMQ, control socket, metrics, RTSP faults."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import yaml
import zmq
from polling import wait_until

from vgsum.stream.messages import HighlightMessage, ScoreMessage, StatusMessage
from vgsum.stream.subscribe import Subscriber

pytestmark = pytest.mark.slow


def _ctl(endpoint: str, payload: bytes, timeout_s: float = 10.0) -> dict:
    """One raw request to the control socket (bytes, so a test can send what a client should not)."""
    context = zmq.Context.instance()
    sock = context.socket(zmq.REQ)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.RCVTIMEO, int(timeout_s * 1000))
    sock.connect(endpoint)
    try:
        sock.send(payload)
        return json.loads(sock.recv())
    finally:
        sock.close(0)


def _final_scores_never_change(scores: list[ScoreMessage]) -> None:
    final_at: dict[float, int] = {}
    for index, message in enumerate(scores):
        assert 0.0 <= message.score <= 1.0
        if message.final:
            assert message.t not in final_at, f"a second final score for t={message.t}"
            final_at[message.t] = index
        else:
            assert message.t not in final_at, f"a provisional score for t={message.t} after its final one"
    finals = [m.t for m in scores if m.final]
    assert finals == sorted(finals) and len(finals) == len(set(finals))


@pytest.mark.rtsp
def test_daemon_on_rtsp_publishes_highlights_survives_a_restart_and_serves_control(
    tmp_path, engine_folder, rtsp_server, free_tcp_port
):
    pub_port, control_port, metrics_port = free_tcp_port(), free_tcp_port(), free_tcp_port()
    not_video = tmp_path / "notes.mp4"
    not_video.write_text("this is not a video\n")
    fast = {
        "open_timeout_s": 3,
        "read_timeout_s": 3,
        "stall_after_s": 4,
        "backoff_initial_s": 0.2,
        "backoff_max_s": 1.0,
    }
    config = tmp_path / "edge.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "streams": [
                    {"stream_id": "cam", "url": rtsp_server.url("clip", "user:secret"), "queries": ["person"], **fast},
                    {"stream_id": "bad", "url": str(not_video)},
                ],
                "publish": {"endpoints": [f"pub+bind:tcp://127.0.0.1:{pub_port}"], "status_interval_s": 0.5},
                "engines": {"dir": str(engine_folder), "threads": 1},
                # cut and decide shots as soon as they are scored: the served clip lasts 10 s, less than any delay
                "summary": {
                    "selection": "knapsack",
                    "window": 16,
                    "stride": 4,
                    "min_shot_s": 1.0,
                    "max_shot_s": 4.0,
                    "shot_s": 2.0,
                    "shot_delay_s": 0.0,
                    "decision_delay_s": 0.0,
                },
                "control": {"endpoint": f"tcp://127.0.0.1:{control_port}"},
                "metrics": {"port": metrics_port},
                "web": {"port": 0},
            }
        )
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "vgsum.runtime.cli", "serve", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    control = f"tcp://127.0.0.1:{control_port}"
    scores: list[ScoreMessage] = []
    highlights: list[HighlightMessage] = []
    statuses: list[StatusMessage] = []

    def pump(sub: Subscriber, until, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if until():
                return True
            received = sub.recv(0.2)
            if received is None:
                continue
            message = received.message
            if isinstance(message, ScoreMessage) and message.stream_id == "cam":
                scores.append(message)
            elif isinstance(message, HighlightMessage):
                highlights.append(message)
            elif isinstance(message, StatusMessage):
                statuses.append(message)
        return until()

    try:
        with Subscriber(f"tcp://127.0.0.1:{pub_port}") as sub:
            assert pump(sub, lambda: bool(highlights) and any(s.final for s in scores), 150), (
                f"no highlight in time; {len(scores)} scores"
            )
            assert all(h.stream_id == "cam" and 0 <= h.score <= 1 and h.end > h.start for h in highlights)
            assert highlights[0].query == "person" and "person" in highlights[0].objects
            # status messages carry the per-stage latencies
            assert any("perception" in s.latency_ms for s in statuses if s.stream_id == "cam")
            # the broken stream failed on its own (one clear error); the other kept publishing
            bad_status = _ctl(control, json.dumps({"op": "status", "stream_id": "bad"}).encode())
            assert bad_status["result"]["streams"]["bad"]["state"] == "failed"
            assert "\n" not in bad_status["result"]["streams"]["bad"]["last_error"]

            # control: good and bad requests against the live daemon
            good = _ctl(control, json.dumps({"op": "set_queries", "stream_id": "cam", "queries": ["car"]}).encode())
            assert good["ok"] and good["result"]["queries"] == ["car"]
            for bad in (
                b"\xff\xfe not utf-8",
                json.dumps({"op": "set_queries", "stream_id": "cam", "queries": ["   "]}).encode(),
                json.dumps({"op": "set_queries", "stream_id": "nope", "queries": ["car"]}).encode(),
                json.dumps({"op": "drop_tables"}).encode(),
            ):
                reply = _ctl(control, bad)
                assert reply["ok"] is False and reply["error"] and "\n" not in reply["error"]
            status = _ctl(control, json.dumps({"op": "status", "stream_id": "cam"}).encode())
            assert status["ok"] and status["result"]["streams"]["cam"]["queries"] == ["car"]

            # /healthz: healthy while the camera serves, and it names the failed stream
            with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/healthz", timeout=5) as healthy:
                assert healthy.status == 200
                health = json.loads(healthy.read())
            assert health["streams"]["cam"]["live"] is True and health["streams"]["bad"]["live"] is False
            assert health["down"] == ["bad"]
            metrics = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).read().decode()
            assert 'vgsum_stage_latency_seconds_count{stage="perception",stream="cam"}' in metrics

            # the camera dies and comes back: the summary records a gap and goes on by itself
            before = len(scores)
            rtsp_server.kill()
            time.sleep(1.0)
            rtsp_server.start()
            assert pump(sub, lambda: len([s for s in scores[before:] if s.final]) >= 8, 90), "scores did not resume"
            gaps = _ctl(control, json.dumps({"op": "status", "stream_id": "cam"}).encode())
            assert gaps["result"]["streams"]["cam"]["gaps"] >= 1
            reconnects = gaps["result"]["streams"]["cam"]["reconnects"]
            assert reconnects >= 1
            def metrics_text() -> str:
                return urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).read().decode()

            # the metrics follow the workers' counters once a second
            counted = f'vgsum_reconnects_total{{stream="cam"}} {float(reconnects)}'
            wait_until(lambda: counted in metrics_text(), 10, "the reconnects in /metrics")
        _final_scores_never_change(scores)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    _, err = proc.communicate()
    assert proc.returncode == 0, err[-2000:]
    assert "Traceback" not in err and "secret" not in err


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def test_metrics_and_healthz_follow_a_dead_camera_next_to_a_live_one(engine_folder, bikes_mp4, free_tcp_port):
    # A camera on a port nobody serves, beside the sample paced like a camera: the daemon stays
    # healthy and says which stream is down; the dead one's retries show in /metrics and status.
    from vgsum.runtime.daemon.app import SummaryApp
    from vgsum.runtime.daemon.config import EdgeConfig
    from vgsum.runtime.engines.loader import Engines

    dead_port = free_tcp_port()
    cfg = EdgeConfig(
        streams=[
            {"stream_id": "live", "url": str(bikes_mp4), "realtime": True, "loop": True, "sample_fps": 1.0},
            {"stream_id": "dead", "url": f"rtsp://user:secret@127.0.0.1:{dead_port}/cam",
             "backoff_initial_s": 0.1, "backoff_max_s": 0.2},
        ],
        publish={"endpoints": [], "frame_messages": False},
        engines={"dir": engine_folder, "threads": 1},
        control={"enabled": False},
        metrics={"port": 0},
        web={"port": 0},
    )
    service = SummaryApp(cfg, Engines.load(cfg.engines))
    service.start()
    try:
        assert service.metrics_server is not None
        url = service.metrics_server.url
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            code, body = _get(url + "/healthz")
            metrics = _get(url + "/metrics")[1]
            if code == 200 and 'vgsum_reconnects_total{stream="dead"} 0.0' not in metrics:
                break
            time.sleep(0.25)
        assert code == 200, body
        health = json.loads(body)
        assert health["down"] == ["dead"]
        assert health["streams"]["dead"]["state"] == "reconnecting" and health["streams"]["live"]["live"]
        counts = {
            line.split("{")[0] + line.split('"')[1]: float(line.split()[-1])
            for line in metrics.splitlines()
            if line.startswith(("vgsum_reconnects_total{", "vgsum_stalls_total{"))
        }
        assert counts["vgsum_reconnects_totaldead"] >= 1 and counts["vgsum_reconnects_totallive"] == 0
        assert counts["vgsum_stalls_totaldead"] == counts["vgsum_stalls_totallive"] == 0
        assert 'vgsum_stream_state{stream="dead",vgsum_stream_state="reconnecting"} 1.0' in metrics
        status = service.handler.stream_status("dead")
        assert status["state"] == "reconnecting" and status["reconnects"] >= counts["vgsum_reconnects_totaldead"]
        assert status["last_error"] == "cannot open: Connection refused (ConnectionRefusedError)"
        assert "secret" not in metrics + body
    finally:
        service.stop()


def _run_summary(path: Path, engine_folder: Path, queries: list[str]):
    from vgsum.runtime.daemon.app import SummaryApp
    from vgsum.runtime.daemon.config import EdgeConfig
    from vgsum.runtime.engines.loader import Engines

    cfg = EdgeConfig(
        streams=[{"stream_id": "v", "url": str(path), "queries": queries}],
        publish={"endpoints": [], "frame_messages": False},
        engines={"dir": engine_folder},
        control={"enabled": False},
        metrics={"enabled": False},
        web={"port": 0},
    )
    service = SummaryApp(cfg, Engines.load(cfg.engines), collect=True)
    service.start()
    try:
        assert service.wait(timeout_s=600), "the file did not finish"
    finally:
        service.stop()
    return service.collected["v"]


def _covered(spans: list[tuple[float, float]], times: np.ndarray) -> np.ndarray:
    inside = np.zeros(len(times), bool)
    for start, end in spans:
        inside |= (times >= start - 1e-6) & (times < end - 1e-6)
    return inside


def test_person_query_highlights_cover_the_visits_and_say_so_at_once(shared_videos, engine_folder):
    clip = shared_videos / "room-people-one-by-one.mp4"
    collected = _run_summary(clip, engine_folder, ["person"])
    times = np.array([t for t, _ in collected.frames])
    person = np.array(["person" in labels for _, labels in collected.frames])
    # the detector's own person track agrees with the clip's hand-made intervals (checked by eye once)
    truth = json.loads((shared_videos / "ground_truth.json").read_text())["room-people-one-by-one.mp4"]["person"]
    assert np.mean(person == _covered([tuple(s) for s in truth], times)) > 0.9

    spans = [(h["start"], h["end"]) for h in collected.highlights]
    assert spans, "no highlights on a clip where people come and go"
    chosen = _covered(spans, times)
    precision = person[chosen].mean()
    coverage = chosen[person].mean()
    print(
        f"room-people, query 'person': {len(spans)} highlights, {chosen.mean():.0%} of the clip; person in "
        f"{precision:.0%} of highlight frames; {coverage:.0%} of person frames inside a highlight"
    )
    assert precision >= 0.9 and coverage >= 0.9
    assert all(h["query"] == "person" for h in collected.highlights)
    assert all(h["alerted_at"] - h["start"] <= 2.0 for h in collected.highlights)  # said within seconds
    assert len({h["id"] for h in collected.highlights}) == len(spans)


def _write_video(path: Path, frames: np.ndarray, fps: int = 10) -> None:
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        for array in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(array, format="rgb24")))
        container.mux(stream.encode())


def test_blank_and_static_videos_give_few_or_no_highlights(tmp_path, engine_folder, bikes_mp4):
    import av

    with av.open(str(bikes_mp4)) as container:
        still = next(container.decode(video=0)).to_ndarray(format="rgb24")
    rng = np.random.default_rng(0)
    n = 10 * 60  # 60 s at 10 fps
    noise = rng.integers(-2, 3, size=(n, *still.shape), dtype=np.int16)
    static = np.clip(still[None].astype(np.int16) + noise, 0, 255).astype(np.uint8)
    blank = np.zeros((n, 240, 320, 3), np.uint8)
    # a blank screen has nothing to show, and neither has a still scene: sensor noise and the detector's flicker
    # move its scores, not its look (summary.min_change keeps them out: at 0 this clip gets a 10-s highlight)
    for name, frames, most in (("blank", blank, 0), ("static", static, 0)):
        path = tmp_path / f"{name}.mp4"
        _write_video(path, frames)
        collected = _run_summary(path, engine_folder, [])
        kept = sum(h["end"] - h["start"] for h in collected.highlights)
        print(f"{name} 60 s: {len(collected.highlights)} highlights, {kept:.1f} s")
        assert len([s for s in collected.scores if s[2]]) == 120
        assert len(collected.highlights) <= most and kept <= 0.15 * 60, f"{name}: {collected.highlights}"
