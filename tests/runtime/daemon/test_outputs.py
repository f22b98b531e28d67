"""The daemon's one fan-out, with a real publisher and a real subscriber: every output gets every result,
the publisher first, a clip is cut once per finished highlight, and nothing goes anywhere once the
publisher has closed (a stopping daemon must not keep what subscribers were never told)."""

from __future__ import annotations

import numpy as np

from vgsum.runtime.daemon.outputs import Collector, Output, Outputs, StageLatency
from vgsum.runtime.summary.summarizer import HighlightEvent, ScoreEvent
from vgsum.stream.publish import Publisher
from vgsum.stream.subscribe import Subscriber, wait_until_subscribed


class Recorder(Output):
    def __init__(self, log: list) -> None:
        self.log = log

    def score(self, stream_id, event) -> None:
        self.log.append(("score", stream_id, event.t))

    def highlight(self, stream_id, event, clip) -> None:
        self.log.append(("highlight", stream_id, event.phase, clip))

    def latency(self, stream_id, stage, seconds) -> None:
        self.log.append(("latency", stream_id, stage))


def _phase(phase: str) -> HighlightEvent:
    return HighlightEvent(start=1.0, end=3.0, score=0.9, objects={"person": 1}, query=None, id="h1", phase=phase,
                          emitted_at=2.0, thumbnail=np.zeros((4, 4, 3), np.uint8))


def test_every_output_hears_every_result_after_the_publisher_and_a_clip_is_cut_once() -> None:
    cuts: list[str] = []
    sent: list[tuple[str, int]] = []
    log: list = []
    with Publisher(["pub+bind:tcp://127.0.0.1:*"]) as publisher:
        outputs = Outputs(publisher, cut_clip=lambda sid, e: cuts.append(e.id) or f"/clips/{sid}-{e.id}.mp4")
        outputs.observe_messages(lambda message, payload: sent.append((message.kind, message.seq)))
        outputs.add(Recorder(log))
        collector = outputs.add(Collector(["cam"]))
        latency = outputs.add(StageLatency())
        sinks = outputs.sinks(on_failure=lambda reason: None)
        with Subscriber(publisher.endpoints[0]) as subscriber:
            assert wait_until_subscribed(publisher, subscriber)
            sinks.on_score("cam", ScoreEvent(0.5, 0.7, True))
            for phase in ("start", "update", "end"):
                sinks.on_highlight("cam", _phase(phase))
            sinks.on_latency("cam", "perception", 0.25)
            received = []
            while len(received) < 5:
                got = subscriber.recv(5.0)
                assert got is not None, received
                if got.message.kind != "heartbeat":
                    received.append((got.message.kind, getattr(got.message, "phase", None)))
    assert received == [("score", None), ("event", "start"), ("event", "update"), ("event", "end"), ("highlight", None)]
    assert [k for k, _ in sent if k != "heartbeat"] == ["score", "event", "event", "event", "highlight"]
    assert cuts == ["h1"]  # only the end cuts a clip, once for every output
    assert ("highlight", "cam", "end", "/clips/cam-h1.mp4") in log
    assert ("highlight", "cam", "start", None) in log
    assert log[0] == ("score", "cam", 0.5) and ("latency", "cam", "publish") in log
    assert collector.streams["cam"].highlights[0]["clip"] == "/clips/cam-h1.mp4"
    assert collector.streams["cam"].highlights[0]["alerted_at"] == 2.0
    fields = latency.status_fields("cam")["latency_ms"]
    assert fields["perception"] == 250.0 and "publish" in fields
    assert latency.status_fields("cam") == {"latency_ms": {}}  # each status message starts a new period


def test_nothing_is_delivered_once_the_publisher_has_closed() -> None:
    log: list = []
    publisher = Publisher(["pub+bind:tcp://127.0.0.1:*"])
    outputs = Outputs(publisher)
    outputs.add(Recorder(log))
    publisher.close()
    outputs.score("cam", ScoreEvent(0.5, 0.7, True))
    outputs.highlight("cam", _phase("end"))
    assert log == []
