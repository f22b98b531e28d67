"""`vgsum serve` as a user runs it: config errors in one line, publishing, clean stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from vgsum.runtime.common.configfile import load_config
from vgsum.runtime.daemon.config import EdgeConfig
from vgsum.stream.subscribe import Subscriber

REPO = Path(__file__).resolve().parents[3]


def serve(config: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "vgsum.runtime.cli", "serve", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_example_config_validates(bikes_mp4):
    cfg = load_config(REPO / "configs" / "edge.yaml", EdgeConfig)
    assert len(cfg.streams) == 2
    assert cfg.streams[0].url == str(bikes_mp4)  # `sample:bikes.mp4` resolved to the bundled clip
    assert cfg.streams[0].policy == "drop_oldest" and cfg.streams[0].loop
    assert cfg.streams[1].kind == "rtsp" and "CHANGE_ME" not in cfg.streams[1].safe_url


@pytest.mark.parametrize(
    ("body", "expect"),
    [
        ("streams:\n  - stream_id: a\n    url: x.mp4\n    sample_fsp: 2\n", "streams.0.sample_fsp: unknown key"),
        ("streams:\n  - stream_id: a\n    url: x.mp4\n    transport: sctp\n", "streams.0.transport"),
        ("streams:\n  - {stream_id: a, url: x.mp4}\n  - {stream_id: a, url: y.mp4}\n", "appears twice"),
        ("streams: []\n", "streams"),
        ("streams:\n  - {stream_id: 'a b', url: x.mp4}\n", "streams.0.stream_id"),
        ("streams: [\n", "not valid YAML"),
        ("streams:\n  - {stream_id: a, url: x.mp4, clips_dir: c, clip_buffer_s: 30}\n", "clip_buffer_s 30 must exceed"),
        ("streams:\n  - {stream_id: a, url: x.mp4}\nsummary: {shot_s: 30}\n", "shot_s must lie between"),
        ("streams:\n  - {stream_id: a, url: x.mp4}\nsummary: {shot_cut: ktss}\n", "summary.shot_cut"),
        ("streams:\n  - {stream_id: a, url: x.mp4, clips_dir: c}\nsummary: {shot_delay_s: 60}\n",
         "clip_buffer_s 120 must exceed how late a highlight is decided (132 s"),
        # a camera password in a rejected config never reaches the error line
        ("streams:\n  - {stream_id: a, url: 'rtsp://admin:hunter2@cam/1'}\n  - {stream_id: a, url: y.mp4}\n",
         "appears twice"),
        ("streams:\n  - {stream_id: a, url: 'rtsp://admin:hunter2@cam/1', clips_dir: c, clip_buffer_s: 9}\n",
         "must exceed"),
    ],
)
def test_malformed_config_is_one_line_exit_2(tmp_path, body, expect):
    bad = tmp_path / "bad.yaml"
    bad.write_text(body)
    proc = subprocess.run(
        [sys.executable, "-m", "vgsum.runtime.cli", "serve", "--config", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert expect in lines[0] and str(bad) in lines[0]
    assert "hunter2" not in proc.stderr


@pytest.mark.rtsp
def test_serve_publishes_and_stops_within_2s_on_sigterm(tmp_path, bikes_mp4, rtsp_server, free_tcp_port):
    port = free_tcp_port()
    config = tmp_path / "edge.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "streams": [
                    {"stream_id": "file", "url": str(bikes_mp4), "realtime": True, "loop": True},
                    {
                        "stream_id": "cam",
                        "url": rtsp_server.url("live", "user:secret"),
                        "stall_after_s": 20,
                        "read_timeout_s": 10,
                        "long_side": 160,
                    },
                ],
                "mode": "ingest",
                "publish": {
                    "endpoints": [f"pub+bind:tcp://127.0.0.1:{port}"],
                    "status_interval_s": 0.5,
                    "heartbeat_interval_s": 0.5,
                },
            }
        )
    )
    proc = serve(config)
    seen: set[tuple[str, str]] = set()
    try:
        with Subscriber(f"tcp://127.0.0.1:{port}") as sub:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not {("frame", "file"), ("frame", "cam")} <= seen:
                r = sub.recv(0.5)
                if r is not None:
                    seen.add((r.message.kind, r.message.stream_id))
        assert {("frame", "file"), ("frame", "cam"), ("status", "cam"), ("heartbeat", "_daemon")} <= seen
        # A hung camera: the reader sits inside FFmpeg's read; shutdown must not wait for it.
        rtsp_server.freeze()
        time.sleep(0.5)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
        took = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
        rtsp_server.thaw()
    out, err = proc.communicate()
    assert proc.returncode == 0, err
    assert took < 2.0, took
    assert "Traceback" not in err
    assert "secret" not in err and "secret" not in out
    assert "rtsp://***@127.0.0.1" in err  # the stream is named by a redacted URL


def test_serve_sigint_on_files_only(tmp_path, bikes_mp4, free_tcp_port):
    port = free_tcp_port()
    config = tmp_path / "edge.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "streams": [
                    {"stream_id": "a", "url": str(bikes_mp4), "realtime": True, "loop": True},
                    {"stream_id": "b", "url": str(tmp_path / "missing.mp4")},
                ],
                "mode": "ingest",
                "publish": {"endpoints": [f"pub+bind:tcp://127.0.0.1:{port}"]},
            }
        )
    )
    proc = serve(config)
    try:
        time.sleep(2.5)
        assert proc.poll() is None  # a failed stream does not end the daemon while another runs
        t0 = time.monotonic()
        os.kill(proc.pid, signal.SIGINT)
        proc.wait(timeout=10)
        assert time.monotonic() - t0 < 2.0
    finally:
        if proc.poll() is None:
            proc.kill()
    _, err = proc.communicate()
    assert proc.returncode == 0, err
    assert "b=failed" in err and "a=ended" in err
