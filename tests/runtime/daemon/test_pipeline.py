"""A bug inside the pipeline thread: recorded once, every stream marked failed, nobody left waiting.

Real engines from the engine folder with one method that raises (fault injection),
real file sources, a real ZeroMQ subscriber and real HTTP for /healthz.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from vgsum.runtime.daemon.app import SummaryApp
from vgsum.runtime.daemon.config import EdgeConfig
from vgsum.runtime.engines.config import EngineConfig
from vgsum.runtime.engines.loader import Engines
from vgsum.stream.ingest import SampledFrame
from vgsum.stream.messages import StatusMessage
from vgsum.stream.state import StreamState
from vgsum.stream.subscribe import Subscriber, wait_until_subscribed

# a failed pipeline must release everyone waiting on it: fail, do not hang (engine building not counted)
pytestmark = pytest.mark.timeout(90, func_only=True)


def _healthz(port: int) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_an_engine_failure_fails_every_stream_and_ends_the_service(
    broken_engines: Engines, engine_folder: Path, bikes_mp4: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = EdgeConfig(
        streams=[
            {"stream_id": "file", "url": str(bikes_mp4)},  # waits for the pipeline (a file never drops frames)
            {"stream_id": "cam", "url": str(bikes_mp4), "realtime": True, "loop": True},  # never ends by itself
        ],
        publish={"endpoints": ["pub+bind:tcp://127.0.0.1:*"], "status_interval_s": 0.2, "frame_messages": False},
        engines={"dir": engine_folder},
        control={"enabled": False},
        metrics={"port": 0},
        web={"port": 0},
    )
    service = SummaryApp(cfg, broken_engines)
    statuses: list[StatusMessage] = []
    caplog.set_level(logging.INFO)
    with Subscriber(service.publisher.endpoints[0]) as subscriber:
        assert wait_until_subscribed(service.publisher, subscriber)
        started = time.monotonic()
        service.start()
        try:
            assert service.wait(timeout_s=30), "the service never noticed that its pipeline died"
            took = time.monotonic() - started
            assert service.failure == "pipeline failed: RuntimeError: refiner exploded"
            assert service.stream_states() == {"file": StreamState.FAILED, "cam": StreamState.FAILED}

            # /healthz stops calling a daemon healthy that scores nothing
            assert service.metrics_server is not None and service.metrics_server.port
            code, health = _healthz(service.metrics_server.port)
            assert code == 503 and health["ok"] is False
            assert {sid: s["state"] for sid, s in health["streams"].items()} == {"file": "failed", "cam": "failed"}

            # subscribers see each stream fail, with the reason
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and len({s.stream_id for s in statuses if s.state == "failed"}) < 2:
                received = subscriber.recv(0.2)
                if received is not None and isinstance(received.message, StatusMessage):
                    statuses.append(received.message)
            failed = {s.stream_id: s for s in statuses if s.state == StreamState.FAILED}
            assert set(failed) == {"file", "cam"}
            assert all(s.last_error == "pipeline failed: RuntimeError: refiner exploded" for s in failed.values())

            # a producer that arrives later is turned away at once instead of blocking forever
            frame = SampledFrame("file", 0, 0, 0.0, 0.0, 0.0, np.zeros((8, 8, 3), np.uint8))
            t0 = time.monotonic()
            assert service.pipeline.submit(frame) is False
            assert time.monotonic() - t0 < 0.5
        finally:
            service.stop()
    assert took < 20, took
    # the bug is logged once, with its traceback, at ERROR
    tracebacks = [r for r in caplog.records if r.exc_info and r.levelno == logging.ERROR]
    assert len(tracebacks) == 1 and tracebacks[0].name == "vgsum.runtime.daemon.pipeline"
    assert "refiner exploded" in caplog.text


def test_interrupt_cuts_a_running_engine_call_short_and_resume_undoes_it(engine_folder: Path) -> None:
    """Stop must not wait for a batch on a busy CPU: the call in progress raises at once, later calls run again."""
    import threading

    from vgsum.runtime.engines.config import EngineConfig

    engines = Engines.load(EngineConfig(dir=engine_folder, threads=1))
    frames = [np.random.default_rng(i).integers(0, 255, (272, 640, 3), np.uint8) for i in range(8)]
    calls: list[str] = []
    started = threading.Event()

    def keep_perceiving() -> None:
        while True:
            started.set()
            try:
                engines.perception(frames)
            except Exception as err:  # onnxruntime's Fail: "terminate flag being set"
                calls.append(str(err))
                return
            calls.append("ok")

    worker = threading.Thread(target=keep_perceiving, daemon=True)
    worker.start()
    assert started.wait(30)
    time.sleep(0.2)  # inside a batch of 8 by now (one takes about 0.5 s on a quiet 2-core CPU)
    interrupted_at = time.monotonic()
    engines.interrupt()
    worker.join(10)
    assert not worker.is_alive()
    assert time.monotonic() - interrupted_at < 0.5
    assert "terminate" in calls[-1]
    engines.resume()
    assert len(engines.perception(frames[:1])) == 1


def test_a_foreground_bug_on_the_consumer_threads_fails_every_stream_once(
    engine_folder: Path, bikes_mp4: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The foreground runs on each stream's consumer thread: a bug there is the pipeline's failure, logged once
    however many streams meet it, not a traceback per frame with the stream silently unscored."""
    from vgsum.runtime.summary.foreground import ForegroundModel

    def update_grey(self: ForegroundModel, grey: np.ndarray) -> float:
        raise RuntimeError("foreground exploded")

    monkeypatch.setattr(ForegroundModel, "update_grey", update_grey)
    cfg = EdgeConfig(
        streams=[{"stream_id": f"file{i}", "url": str(bikes_mp4)} for i in range(3)],
        publish={"endpoints": ["pub+bind:tcp://127.0.0.1:*"], "frame_messages": False},
        engines={"dir": engine_folder},
        control={"enabled": False},
        metrics={"enabled": False},
        web={"port": 0},
    )
    caplog.set_level(logging.INFO)
    service = SummaryApp(cfg, Engines.load(EngineConfig(dir=engine_folder, threads=1)))
    service.start()
    try:
        assert service.wait(timeout_s=30)
        assert service.failure == "pipeline failed: RuntimeError: foreground exploded"
        assert set(service.stream_states().values()) == {StreamState.FAILED}
    finally:
        service.stop()
    tracebacks = [r for r in caplog.records if r.exc_info and r.levelno == logging.ERROR]
    assert len(tracebacks) == 1 and tracebacks[0].name == "vgsum.runtime.daemon.pipeline"
