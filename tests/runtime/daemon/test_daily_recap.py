"""The daemon's daily recap: the next run at HH:MM, `recap:` config mistakes as one line (exit 2 from `vgsum serve`),
and the daily path on a real daemon through the control socket's `recap_now`: real engines, a real store of real
clips, the `recap` message on a real ZeroMQ subscriber (topic `vgsum.recap.<stream>`), its row in the store, and the
video on the daemon's history page."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path

import pytest
import zmq
from polling import holds_for, wait_until
from recap_history import BIKES_GOPS, cut_clip
from serve_config import serve_refuses
from web_history import StoreFiller

from vgsum.runtime.daemon.app import SummaryApp
from vgsum.runtime.daemon.config import EdgeConfig
from vgsum.runtime.daemon.daily_recap import next_run, recap_file_name
from vgsum.runtime.engines.config import EngineConfig
from vgsum.runtime.engines.loader import Engines
from vgsum.runtime.store.reader import StoreReader
from vgsum.runtime.store.retention import RECAP_FILE
from vgsum.stream.messages import RecapMessage
from vgsum.stream.subscribe import Subscriber, wait_until_subscribed

DAY_S = 86_400.0


@pytest.mark.parametrize(
    ("now", "at", "expected"),
    [
        (datetime(2026, 12, 4, 5, 59, 59), time_of_day(6, 0), datetime(2026, 12, 4, 6, 0)),  # later today
        (datetime(2026, 12, 4, 6, 0), time_of_day(6, 0), datetime(2026, 12, 5, 6, 0)),  # just ran: tomorrow
        (datetime(2026, 12, 4, 6, 0, 0, 1), time_of_day(6, 0), datetime(2026, 12, 5, 6, 0)),
        (datetime(2026, 12, 4, 23, 30), time_of_day(0, 15), datetime(2026, 12, 5, 0, 15)),  # after midnight
        (datetime(2026, 12, 31, 22, 0), time_of_day(6, 0), datetime(2027, 1, 1, 6, 0)),  # into the new year
        (datetime(2028, 2, 28, 12, 0), time_of_day(6, 0), datetime(2028, 2, 29, 6, 0)),  # a leap day
        (datetime(2026, 12, 4, 0, 0), time_of_day(0, 0), datetime(2026, 12, 5, 0, 0)),
    ],
)
def test_the_next_run_is_the_first_time_of_day_after_now(now: datetime, at: time_of_day, expected: datetime) -> None:
    due = next_run(at, now)
    assert due == expected and now < due <= now + timedelta(days=1)


def test_a_daily_recaps_file_name_is_the_form_retention_knows() -> None:
    name = recap_file_name("gate-2_east", datetime(2026, 12, 4, 6, 0).timestamp(), "0123456789abcdef")
    assert name == "gate-2_east_2026-12-04_0600_0123456789abcdef.mp4"
    assert RECAP_FILE.fullmatch(name) and RECAP_FILE.fullmatch(name[:-4] + ".vtt")
    assert not RECAP_FILE.fullmatch("holiday.mp4") and not RECAP_FILE.fullmatch("0123456789abcdef.mp4")


@pytest.mark.parametrize(
    ("recap", "expect"),
    [
        ("recap: {at: '25:00'}\n", "recap.at: '25:00' is not a time of day"),
        ("recap: {at: 6:30}\n", "recap.at: YAML read a number; write the time of day in quotes"),
        ("recap: {budget: 3 parsecs}\n", "recap.budget: budget '3 parsecs': give seconds (90, 90s), minutes (3m)"),
        ("recap: {budget: 25h}\n", "recap.budget: the budget (90000 s) is longer than the time range (86400 s)"),
        ("recap: {budget: 0%}\n", "recap.budget: budget '0%': a share must be more than 0 %"),
        ("recap: {when: '06:00'}\n", "recap.when: unknown key"),
        ("recap: {keep_days: 0}\n", "recap.keep_days: Input should be greater than 0"),
        ("recap: {enabled: true, streams: [gate]}\n", "recap.streams: no stream 'gate'; streams: a"),
        ("recap: {enabled: true}\nstore: {enabled: false}\n", "recap.enabled needs store.enabled"),
    ],
)
def test_a_recap_config_mistake_is_one_line_and_exit_2(tmp_path: Path, recap: str, expect: str) -> None:
    bad = tmp_path / "edge.yaml"
    bad.write_text("streams:\n  - {stream_id: a, url: 'rtsp://admin:hunter2@cam/1'}\n" + recap)
    line = serve_refuses(bad)
    assert expect in line and "hunter2" not in line


# ------------------------------------------------------------------ the daily path on a real daemon


def _ask(endpoint: str, request: dict, timeout_s: float = 10.0) -> dict:
    sock = zmq.Context.instance().socket(zmq.REQ)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.RCVTIMEO, int(timeout_s * 1000))
    sock.connect(endpoint)
    try:
        sock.send(json.dumps(request).encode())
        return json.loads(sock.recv())
    finally:
        sock.close(0)


@pytest.fixture(scope="module")
def engines(engine_folder: Path) -> Engines:
    return Engines.load(EngineConfig(dir=engine_folder, threads=1))


@pytest.fixture(scope="module")
def gop_clips(bikes_mp4: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("daily-gops")
    return [cut_clip(bikes_mp4, a, b, folder / f"gop{i}.mp4") for i, (a, b) in enumerate(BIKES_GOPS)]


@pytest.fixture
def daemon(
    engines: Engines, engine_folder: Path, gop_clips: list[Path], tmp_path: Path, free_tcp_port
) -> Iterator[SummaryApp]:
    """cam1 with five highlights an hour ago in the store (real clips), cam2 with none; cameras nobody serves."""
    db = tmp_path / "data" / "history.db"
    filler = StoreFiller(db)
    wall0 = time.time() - 3600
    filler.stream("cam1", "rtsp://cam1/stream", "ended")
    for i, clip in enumerate(gop_clips):
        (a, b), start = BIKES_GOPS[i], 10.0 * i
        filler.highlight(f"h{i}", "cam1", start=start, end=start + (b - a), wall0=wall0, score=0.5 + 0.1 * i,
                         objects={"person": 1, "bicycle": 1}, clip=clip)
    filler.close()
    camera = f"rtsp://127.0.0.1:{free_tcp_port()}"  # nothing listens there: the streams keep connecting
    later = (datetime.now() + timedelta(hours=12)).strftime("%H:%M")  # the clock never gets there in the test
    cfg = EdgeConfig(
        streams=[{"stream_id": "cam1", "url": f"{camera}/1", "open_timeout_s": 1},
                 {"stream_id": "cam2", "url": f"{camera}/2", "open_timeout_s": 1}],
        publish={"endpoints": [f"pub+bind:tcp://127.0.0.1:{free_tcp_port()}"]},
        engines={"dir": engine_folder, "threads": 1},
        control={"endpoint": "tcp://127.0.0.1:0"},
        metrics={"enabled": False},
        web={"port": 0},
        store={"path": db},
        recap={"enabled": True, "at": later, "budget": "1m"},
    )
    service = SummaryApp(cfg, engines)
    service.start()
    try:
        yield service
    finally:
        service.stop()


@pytest.mark.slow
def test_recap_now_makes_the_daily_recap_announces_stores_and_serves_it(daemon: SummaryApp) -> None:
    assert daemon.control is not None and daemon.web is not None and daemon.control.bound_endpoint
    control = daemon.control.bound_endpoint
    with Subscriber(daemon.publisher.endpoints[0]) as subscriber:
        assert wait_until_subscribed(daemon.publisher, subscriber)
        wrong = _ask(control, {"op": "recap_now", "stream_id": "nope"})
        assert not wrong["ok"] and wrong["error"].startswith("no stream 'nope'")
        asked = time.time()
        reply = _ask(control, {"op": "recap_now"})
        assert reply["ok"], reply
        queued = {r["stream_id"]: r for r in reply["result"]["recaps"]}
        assert sorted(queued) == ["cam1", "cam2"] and queued["cam1"]["state"] == "queued"
        recap_id = queued["cam1"]["id"]

        received = []

        def recap_arrived() -> bool:
            item = subscriber.recv(timeout_s=0.2)
            if item is not None and item.message.kind == "recap":
                received.append(item)
            return bool(received)

        wait_until(recap_arrived, timeout=90, what="the recap message", every=0)
        def no_recap() -> bool:  # cam2 had nothing to recap: no message of it may follow
            item = subscriber.recv(timeout_s=0.1)
            return item is None or item.message.kind != "recap"

        holds_for(no_recap, 1.0, "no second recap message")

    (got,) = received
    message = got.message
    assert isinstance(message, RecapMessage) and got.topic == "vgsum.recap.cam1"
    assert message.stream_id == "cam1" and message.id == recap_id and message.schema_version == 5
    assert message.until == pytest.approx(asked, abs=5) and message.until - message.since == DAY_S
    assert message.parts == 5 and 9.0 < message.duration < 11.0  # all five GOPs fit in a minute
    assert message.url == f"/recaps/{recap_id}.mp4" and message.query is None
    video = Path(message.path)
    assert video.parent == daemon.cfg.store.db_path.parent / "recaps" and RECAP_FILE.fullmatch(video.name)
    assert video.is_file() and video.with_suffix(".vtt").is_file()
    document = json.loads(video.with_suffix(".json").read_text())
    assert [p["highlight_id"] for p in document["parts"]] == [f"h{i}" for i in range(5)]
    assert document["novelty_from"] != "off"  # the daemon's own perception engine looked at the parts

    def stored():
        with StoreReader(daemon.cfg.store.db_path) as reader:
            return reader.recap(recap_id)

    row = wait_until(stored, timeout=10, what="the recap's row in the store")
    assert (row.stream_id, row.path, row.parts, row.duration) == ("cam1", str(video), 5, message.duration)
    assert (row.since, row.until, row.created_at) == (message.since, message.until, message.created_at)

    page = daemon.web.url.rstrip("/")
    with urllib.request.urlopen(page + message.url, timeout=10) as reply:
        assert reply.status == 200 and reply.headers["Content-Type"] == "video/mp4"
        assert reply.read() == video.read_bytes()
    with urllib.request.urlopen(f"{page}/api/recaps/{recap_id}", timeout=10) as reply:
        state = json.load(reply)
    assert state["state"] == "done" and state["origin"] == "daily" and len(state["parts"]) == 5
    assert state["captions_url"] == f"/recaps/{recap_id}.vtt"

    cam2 = queued["cam2"]
    if cam2["id"] is not None:  # the store knew cam2 (its status was written): it recapped to nothing
        assert daemon.recaps is not None
        assert daemon.recaps.wait(cam2["id"], 10)["state"] == "empty"
    else:
        assert cam2["state"] == "empty" and cam2["message"].startswith("nothing to recap")


def test_the_daily_thread_recaps_each_stream_at_its_time_of_day(tmp_path: Path, gop_clips: list[Path]) -> None:
    """A clock one second before a minute boundary, `at` that minute: the thread queues the recap of the 24 h
    before it (the scheduled time, not when the thread woke) and announces what was written."""
    from vgsum.runtime.daemon.config import RecapConfig
    from vgsum.runtime.daemon.daily_recap import DailyRecap, Recapped
    from vgsum.runtime.recap.jobs import RecapJobs

    db = tmp_path / "history.db"
    filler = StoreFiller(db)
    wall0 = time.time() - 3600
    filler.stream("cam1", "rtsp://cam1/stream", "ended")
    for i, clip in enumerate(gop_clips[:2]):
        (a, b), start = BIKES_GOPS[i], 10.0 * i
        filler.highlight(f"h{i}", "cam1", start=start, end=start + (b - a), wall0=wall0, score=0.6, clip=clip)
    filler.close()
    now = datetime.now()
    boundary = (now + timedelta(minutes=1)).replace(second=0, microsecond=0)
    offset = (boundary - now).total_seconds() - 1.0  # the test's clock reaches `at` a second from now
    cfg = RecapConfig(enabled=True, at=boundary.strftime("%H:%M"), budget="30s")
    announced: list[Recapped] = []
    jobs = RecapJobs(db, tmp_path / "recaps").start()
    daily = DailyRecap(cfg, ["cam1"], jobs, announced.append, clock=lambda: time.time() + offset)
    try:
        daily.start()
        wait_until(lambda: announced, timeout=30, what="the daily recap")
    finally:
        daily.stop()
        jobs.stop()
    (recap,) = announced
    assert recap.stream_id == "cam1" and recap.until == boundary.timestamp() and recap.since == recap.until - DAY_S
    assert recap.parts == 2 and Path(recap.path).name == recap_file_name("cam1", recap.until, recap.id)
    assert Path(recap.path).is_file() and recap.fields()["id"] == recap.id and "stream_id" not in recap.fields()


@pytest.mark.slow
def test_a_daemon_stopping_during_a_recap_stops_promptly_and_says_so(daemon: SummaryApp) -> None:
    assert daemon.control is not None and daemon.control.bound_endpoint and daemon.recaps is not None
    reply = _ask(daemon.control.bound_endpoint, {"op": "recap_now", "stream_id": "cam1"})
    (queued,) = reply["result"]["recaps"]
    began = time.monotonic()
    daemon.stop()
    assert time.monotonic() - began < 5.0
    state = daemon.recaps.state(queued["id"])
    assert state is not None and state["state"] in ("done", "failed"), state
    if state["state"] == "failed":  # stopped before it was written: said as such, and no half file is left
        assert "stopped" in state["error"]
        assert not list((daemon.cfg.store.db_path.parent / "recaps").glob("*.part"))
    after = _ask_quietly(daemon.control.bound_endpoint)
    assert after is None  # the control socket is closed too


def _ask_quietly(endpoint: str) -> dict | None:
    try:
        return _ask(endpoint, {"op": "list_streams"}, timeout_s=0.5)
    except zmq.Again:
        return None
