"""Credentials in URLs and error texts are masked."""

from __future__ import annotations

from vgsum.stream.config import StreamConfig
from vgsum.stream.redact import redact_text, redact_url, url_secrets


def test_userinfo_and_secret_query_masked():
    url = "rtsp://admin:hunter22@10.0.0.5:554/Streaming/101?channel=1&password=topsecret&token=abc123"
    out = redact_url(url)
    assert "hunter22" not in out and "admin" not in out and "topsecret" not in out and "abc123" not in out
    assert out.startswith("rtsp://***@10.0.0.5:554/Streaming/101?")
    assert "channel=1" in out


def test_plain_paths_and_urls_unchanged():
    assert redact_url("/data/video.mp4") == "/data/video.mp4"
    assert redact_url("rtsp://10.0.0.5/live") == "rtsp://10.0.0.5/live"


def test_free_text_with_url_and_known_secrets():
    url = "rtsp://user:p%40ss@cam.local/x"
    text = f"Server returned 401 Unauthorized: '{url}' (user p@ss)"
    out = redact_text(text, url_secrets(url))
    assert "p%40ss" not in out and "p@ss" not in out
    assert "rtsp://***@cam.local/x" in out


def test_stream_config_safe_url():
    cfg = StreamConfig(stream_id="c", url="rtsp://u:secret@h/p")
    assert cfg.safe_url == "rtsp://***@h/p"
    assert "secret" not in cfg.safe_url
