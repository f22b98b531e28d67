"""Metrics and health over real HTTP (urllib) on 127.0.0.1 with a free port."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from vgsum.runtime.common.errors import UserError
from vgsum.runtime.daemon.metrics import STAGES, MetricsServer, PipelineMetrics


def _get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.headers["Content-Type"], resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.headers["Content-Type"], err.read().decode()


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_metrics_endpoint_exposes_per_stream_series() -> None:
    metrics = PipelineMetrics(["cam1", "cam2"])
    with MetricsServer(metrics, port=0) as server:
        assert server.port and server.port > 0
        for ms in (10, 20, 30):
            metrics.observe("cam1", "perception", ms / 1000)
        metrics.observe("cam2", "publish", 0.0004)
        metrics.set_fps("cam1", 25.0, 2.0)
        metrics.add_drops("cam1", 3)
        metrics.add_drops("cam1")
        metrics.set_queue_depth("cam2", 7)
        metrics.set_state("cam1", "streaming")
        metrics.add_reconnects("cam1", 8)
        metrics.add_reconnects("cam1", 0)
        metrics.add_stalls("cam1")

        code, ctype, body = _get(server.url + "/metrics")
        assert code == 200 and ctype.startswith("text/plain")
        s = _samples(body)
        perc = ("stream", "cam1"), ("stage", "perception")
        assert s[("vgsum_stage_latency_seconds_count", tuple(sorted(perc)))] == 3
        assert s[("vgsum_stage_latency_seconds_sum", tuple(sorted(perc)))] == pytest.approx(0.06)
        assert s[("vgsum_stage_latency_seconds_bucket", tuple(sorted((*perc, ("le", "0.025")))))] == 2
        # every stage of every configured stream exists from the start
        for stage in STAGES:
            key = ("vgsum_stage_latency_seconds_count", tuple(sorted((("stream", "cam2"), ("stage", stage)))))
            assert key in s
        assert s[("vgsum_fps_in", (("stream", "cam1"),))] == 25.0
        assert s[("vgsum_fps_out", (("stream", "cam1"),))] == 2.0
        assert s[("vgsum_frames_dropped_total", (("stream", "cam1"),))] == 4
        assert s[("vgsum_frames_dropped_total", (("stream", "cam2"),))] == 0
        assert s[("vgsum_queue_depth", (("stream", "cam2"),))] == 7
        assert s[("vgsum_reconnects_total", (("stream", "cam1"),))] == 8
        assert s[("vgsum_stalls_total", (("stream", "cam1"),))] == 1
        # counters of a stream with no fault exist at zero, so a dashboard's rate() works from the start
        assert s[("vgsum_reconnects_total", (("stream", "cam2"),))] == 0
        assert s[("vgsum_stalls_total", (("stream", "cam2"),))] == 0
        assert s[("vgsum_stream_state", (("stream", "cam1"), ("vgsum_stream_state", "streaming")))] == 1
        assert s[("vgsum_stream_state", (("stream", "cam1"), ("vgsum_stream_state", "connecting")))] == 0
        assert s[("vgsum_stream_state", (("stream", "cam2"), ("vgsum_stream_state", "connecting")))] == 1

        assert _get(server.url + "/nope")[0] == 404


def test_healthz_is_healthy_while_one_stream_serves_and_names_those_down() -> None:
    metrics = PipelineMetrics(["cam1", "cam2", "file1"])
    with MetricsServer(metrics, port=0) as server:
        # at start nothing serves yet
        code, ctype, body = _get(server.url + "/healthz")
        assert (code, ctype) == (503, "application/json")
        assert json.loads(body)["streams"]["cam1"] == {"state": "connecting", "live": False}
        assert json.loads(body)["down"] == ["cam1", "cam2", "file1"]

        # one dead camera next to a live one: healthy (restarting would cut the live one), and named
        metrics.set_state("cam1", "streaming")
        metrics.set_state("cam2", "failed")
        metrics.set_state("file1", "ended")
        code, _, body = _get(server.url + "/healthz")
        assert code == 200
        assert json.loads(body) == {
            "ok": True,
            "down": ["cam2"],
            "streams": {
                "cam1": {"state": "streaming", "live": True},
                "cam2": {"state": "failed", "live": False},
                "file1": {"state": "ended", "live": False},
            },
        }

        # nothing serves: the live camera reconnects, the other failed, the file is over
        metrics.set_state("cam1", "reconnecting")
        code, _, body = _get(server.url + "/healthz")
        assert code == 503 and json.loads(body)["ok"] is False
        assert json.loads(body)["down"] == ["cam1", "cam2"]


def test_healthz_when_every_stream_ended_normally() -> None:
    metrics = PipelineMetrics(["a", "b"])
    metrics.set_state("a", "ended")
    metrics.set_state("b", "ended")
    ended = {"state": "ended", "live": False}
    assert metrics.health() == (200, {"ok": True, "down": [], "streams": {"a": ended, "b": ended}})


def test_two_servers_have_separate_registries_and_stop_closes_the_port() -> None:
    a, b = PipelineMetrics(["x"]), PipelineMetrics(["y"])
    sa, sb = MetricsServer(a, port=0), MetricsServer(b, port=0)
    sa.start()
    sb.start()
    try:
        a.add_drops("x", 5)
        body_b = _get(sb.url + "/metrics")[2]
        assert 'stream="x"' not in body_b and 'stream="y"' in body_b
        assert 'vgsum_frames_dropped_total{stream="x"} 5.0' in _get(sa.url + "/metrics")[2]
    finally:
        sb.stop()
    url_b = sb.url
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url_b + "/healthz", timeout=2)
    # a port in use is a one-line user error
    with pytest.raises(UserError, match="cannot listen"):
        MetricsServer(a, port=sa.port or 0).start()
    sa.stop()


def test_bad_stage_or_state_is_a_bug() -> None:
    metrics = PipelineMetrics()
    with pytest.raises(ValueError):
        metrics.observe("s", "decoding", 0.1)
    with pytest.raises(ValueError):
        metrics.set_state("s", "dead")
    assert metrics.health() == (200, {"ok": True, "down": [], "streams": {}})


def test_ingest_state_enum_is_accepted() -> None:
    from vgsum.stream.state import StreamState

    metrics = PipelineMetrics(["cam1"])
    metrics.set_state("cam1", StreamState.STREAMING)
    assert metrics.health() == (
        200, {"ok": True, "down": [], "streams": {"cam1": {"state": "streaming", "live": True}}}
    )
    assert 'vgsum_stream_state{stream="cam1",vgsum_stream_state="streaming"} 1.0' in metrics.exposition().decode()
