"""StreamConfig: what a URL names, decided in one place for the reader and the commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from vgsum.stream.config import StreamConfig, local_path, source_kind


@pytest.mark.parametrize(
    ("url", "kind", "path"),
    [
        ("/videos/a.mp4", "file", Path("/videos/a.mp4")),
        ("clip.mkv", "file", Path("clip.mkv")),
        ("file:///videos/a.mp4", "file", Path("/videos/a.mp4")),
        ("rtsp://user:pw@cam/1", "rtsp", None),
        ("RTSPS://cam/1", "rtsp", None),
        ("/dev/video0", "device", None),
        ("v4l2:///dev/video2", "device", None),
        ("http://host/stream.m3u8", "network", None),
    ],
)
def test_source_kind_and_local_path(url: str, kind: str, path: Path | None) -> None:
    assert source_kind(url) == kind
    assert local_path(url) == path
    cfg = StreamConfig(stream_id="s", url=url)
    assert cfg.kind == kind and cfg.is_live == (path is None)


def test_queue_policy_follows_liveness() -> None:
    assert StreamConfig(stream_id="s", url="a.mp4").policy == "block"
    assert StreamConfig(stream_id="s", url="a.mp4", realtime=True).policy == "drop_oldest"
    assert StreamConfig(stream_id="s", url="rtsp://cam/1").policy == "drop_oldest"
