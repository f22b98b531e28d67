"""Message models and the ZeroMQ path: real PUB/SUB sockets on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
from pydantic import ValidationError

from vgsum.runtime.common.errors import UserError
from vgsum.stream.messages import (
    KINDS,
    SCHEMA_VERSION,
    FrameMessage,
    HighlightMessage,
    ScoreMessage,
    StatusMessage,
    json_schema,
    parse_message,
    topic_for,
)
from vgsum.stream.publish import Endpoint, Publisher
from vgsum.stream.subscribe import GapTracker, Subscriber, wait_until_subscribed


def test_models_roundtrip_and_bounds():
    msg = ScoreMessage(stream_id="a", seq=0, wall_time=1.0, t=3.5, score=0.7, final=True)
    back = parse_message(msg.model_dump_json())
    assert back == msg and back.schema_version == 2 < SCHEMA_VERSION  # score's form is unchanged since 2
    with pytest.raises(ValidationError):
        ScoreMessage(stream_id="a", seq=0, wall_time=1.0, t=0, score=1.5, final=False)
    hl = HighlightMessage(
        stream_id="a", seq=0, wall_time=1.0, start=1, end=4, score=0.9, objects={"person": 2}, query=None, clip=None
    )
    assert parse_message(hl.model_dump_json()).objects == {"person": 2}
    with pytest.raises(ValidationError):
        parse_message(json.dumps({"kind": "status", "stream_id": "a", "seq": 0, "wall_time": 1, "bogus": 1}))
    assert topic_for("frame", "cam1") == "vgsum.frame.cam1"


def test_schema_covers_every_kind():
    union = json.dumps(json_schema())
    for kind in KINDS:
        assert kind in union
        assert json_schema(kind)["properties"]["kind"]["const"] == kind


def test_schema_cli(capsys):
    from vgsum.runtime.cli.schema import main

    assert main(["status"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "fps_in" in schema["properties"]
    with pytest.raises(UserError):
        main(["nope"])


def test_endpoint_parsing():
    assert Endpoint.parse("pub+bind:tcp://127.0.0.1:5556") == Endpoint("bind", "tcp://127.0.0.1:5556")
    assert Endpoint.parse("pub+connect:tcp://h:1").mode == "connect"
    with pytest.raises(UserError, match="pub\\+bind"):
        Endpoint.parse("tcp://127.0.0.1:5556")


def test_seq_per_stream_and_kind_and_filters():
    pub = Publisher(["pub+bind:tcp://127.0.0.1:*"])
    everything = Subscriber(pub.endpoints[0])
    only_frames_b = Subscriber(pub.endpoints[0], kinds=["frame"], streams=["b"])
    try:
        assert wait_until_subscribed(pub, everything)
        time.sleep(0.3)  # the filtered subscriber sees no heartbeats: give its subscription time to arrive
        for i in range(3):
            for sid in ("a", "b", "bb"):
                pub.publish(FrameMessage, sid, media_time=i, pts=i, width=8, height=8)
        pub.publish(
            StatusMessage,
            "b",
            state="streaming",
            url="x",
            fps_in=1,
            fps_out=1,
            frames_decoded=1,
            frames_sampled=1,
            frames_dropped=0,
            lag_s=0,
            reconnects=0,
        )
        got = [everything.recv(1) for _ in range(10)]
        seqs = {}
        for r in got:
            seqs.setdefault((r.message.stream_id, r.message.kind), []).append(r.message.seq)
        assert seqs == {
            ("a", "frame"): [0, 1, 2],
            ("b", "frame"): [0, 1, 2],
            ("bb", "frame"): [0, 1, 2],
            ("b", "status"): [0],
        }
        filtered = []
        while (r := only_frames_b.recv(0.3)) is not None:
            filtered.append(r.message)
        assert [(m.kind, m.stream_id, m.seq) for m in filtered] == [("frame", "b", i) for i in range(3)]
        assert not everything.tracker.gaps
    finally:
        everything.close()
        only_frames_b.close()
        pub.close()


def test_gap_tracker():
    t = GapTracker()
    mk = lambda seq: FrameMessage(stream_id="s", seq=seq, wall_time=0, pts=0, width=1, height=1)  # noqa: E731
    assert t.check(mk(0)) == (None, False)
    gap, _ = t.check(mk(4))
    assert gap is not None and (gap.expected, gap.got, gap.missing) == (1, 4, 3)
    assert t.check(mk(0)) == (None, True)  # publisher restarted
    assert t.missing == 3 and t.restarts == 1


def test_slow_subscriber_sees_gaps_through_seq(bikes_mp4, ingest, fast_stream):
    # The real path: a looped file sampled fast; tiny HWMs and kernel buffers; a subscriber that sleeps.
    h = ingest(
        [fast_stream("f", str(bikes_mp4), loop=True, sample_fps=25.0, long_side=64)],
        rcvhwm=5,
        rcvbuf=2048,
        sndhwm=5,
        sndbuf=2048,
    )
    time.sleep(2.0)  # the subscriber is busy elsewhere while hundreds of frames are published
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not h.subscriber.tracker.gaps:
        h.subscriber.recv(0.2)
    gaps = [g for g in h.subscriber.tracker.gaps if g.kind == "frame"]
    assert gaps, "a slow subscriber must see missing seq numbers"
    assert all(g.missing > 0 for g in gaps)
    status = h.service.workers["f"].stats()
    assert status.frames_dropped == 0  # the sender's queue lost nothing: the gap is on the wire


def test_subscribe_cli_prints_and_reports_gaps():
    pub = Publisher(["pub+bind:tcp://127.0.0.1:*"])
    endpoint = pub.endpoints[0]
    proc = subprocess.Popen(
        [sys.executable, "-m", "vgsum.runtime.cli", "subscribe", endpoint, "--kind", "frame", "--count", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        seq_source = iter(range(1000))
        deadline = time.monotonic() + 15
        while proc.poll() is None and time.monotonic() < deadline:
            i = next(seq_source)
            # Publish seq 0, then skip: the publisher's counter is forced forward to show a gap.
            pub._seq[("cam", "frame")] = i * 2
            pub.publish(FrameMessage, "cam", media_time=float(i), pts=float(i), width=4, height=4)
            time.sleep(0.05)
        out, err = proc.communicate(timeout=10)
    finally:
        pub.close()
    assert proc.returncode == 1, err  # gaps seen -> exit 1
    assert out.count("frame") == 3, (out, err)
    assert "GAP cam/frame" in err and "received 3 messages" in err
