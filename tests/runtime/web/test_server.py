"""The page server over HTTP with a real client and a real store file: API, clips with Range, live feed, tokens."""

from __future__ import annotations

import http.client
import json
import logging
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest
from web_history import StoreFiller, thumbnail_of

from vgsum.runtime.web.config import WebConfig
from vgsum.runtime.web.server import WebServer
from vgsum.stream.errors import UserError

DAY = 86400.0
TOKEN = "s3cret-token-7f1e"


def get(server: WebServer, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        reply = conn.getresponse()
        return reply.status, {k.lower(): v for k, v in reply.getheaders()}, reply.read()
    finally:
        conn.close()


def get_json(server: WebServer, path: str, **params: object) -> dict:
    status, _, body = get(server, path + ("?" + urlencode(params) if params else ""))
    assert status == 200, body
    return json.loads(body)


@pytest.fixture
def history(store: StoreFiller, bikes_mp4: Path, tmp_path: Path) -> dict[str, float]:
    """Two cameras over two days: highlights with objects, queries, a clip (the bundled sample) and a thumbnail."""
    day0 = time.time() - 2 * DAY
    thumb = thumbnail_of(bikes_mp4, tmp_path / "thumb.jpg")
    store.stream("cam1", "rtsp://***@10.0.0.5/live", "streaming")
    store.stream("cam2", "rtsp://10.0.0.6/live", "failed", last_error="connection refused")
    rows = [  # id, stream, hours after day0, objects, query
        ("a1", "cam1", 1.0, {"person": 2}, None),
        ("a2", "cam1", 5.0, {"car": 1}, "a red car"),
        ("a3", "cam1", 30.0, {"person": 1, "dog": 1}, "a dog on the street"),
        ("b1", "cam2", 2.0, {"bicycle": 1}, None),
        ("b2", "cam2", 40.0, {"person": 1}, "A Red Car"),
    ]
    for hid, stream, hours, objects, query in rows:
        wall0 = day0 + 3600 * hours
        store.highlight(hid, stream, start=0.0, end=8.0, wall0=wall0, score=0.5 + hours / 100, objects=objects,
                        query=query, clip=bikes_mp4 if hid == "a1" else None, thumbnail=thumb if hid == "a1" else None)
    store.scores("cam1", day0, [(60.0 * i, (i % 10) / 10) for i in range(3000)])
    return {"day0": day0}


@pytest.fixture
def server(store: StoreFiller) -> Iterator[WebServer]:
    with WebServer(WebConfig(port=0), store.path, live_states=lambda: {"cam1": "streaming", "cam3": "connecting"},
                   poll_s=0.1) as web:
        yield web


def ids(reply: dict) -> list[str]:
    return [h["id"] for h in reply["highlights"]]


def test_highlights_filter_by_stream_time_object_and_query(server: WebServer, history: dict[str, float]):
    day0 = history["day0"]
    assert ids(get_json(server, "/api/highlights")) == ["b2", "a3", "a2", "b1", "a1"]  # newest first
    assert ids(get_json(server, "/api/highlights", stream="cam1")) == ["a3", "a2", "a1"]
    assert ids(get_json(server, "/api/highlights", object="person")) == ["b2", "a3", "a1"]
    assert ids(get_json(server, "/api/highlights", query="red car")) == ["b2", "a2"]  # case-insensitive substring
    assert ids(get_json(server, "/api/highlights", since=day0 + 4 * 3600, until=day0 + 31 * 3600)) == ["a3", "a2"]
    iso = datetime.fromtimestamp(day0 + 24 * 3600).isoformat()
    assert ids(get_json(server, "/api/highlights", since=iso)) == ["b2", "a3"]
    one = get_json(server, "/api/highlights", stream="cam1", limit=1)["highlights"][0]
    assert one["objects"] == {"person": 1, "dog": 1} and one["closed"] and one["clip_url"] is None
    first = get_json(server, "/api/highlights", stream="cam1", object="person", since=day0)["highlights"][-1]
    assert first["clip_url"] == "/clips/a1" and first["thumbnail_url"] == "/thumbnails/a1"
    assert "clip" not in first and "thumbnail" not in first  # the page gets URLs, not the daemon's file paths


def test_highlights_page_by_keyset(server: WebServer, history: dict[str, float]):
    seen, before, pages = [], None, 0
    while True:
        reply = get_json(server, "/api/highlights", limit=2, **({"before": before} if before else {}))
        seen += ids(reply)
        pages += 1
        before = reply["next"]
        if before is None:
            break
    assert seen == ["b2", "a3", "a2", "b1", "a1"] and pages == 3


def test_scores_streams_and_bad_parameters(server: WebServer, history: dict[str, float]):
    day0 = history["day0"]
    points = get_json(server, "/api/scores", stream="cam1", max_points=100)["points"]
    assert len(points) == 100 and all(p[2] == 0.9 for p in points)  # thinned to each bucket's peak
    day = get_json(server, "/api/scores", stream="cam1", since=day0, until=day0 + 600)["points"]
    assert [p[1] for p in day] == [0.0, 60.0, 120.0, 180.0, 240.0, 300.0, 360.0, 420.0, 480.0, 540.0]
    streams = {s["stream_id"]: s for s in get_json(server, "/api/streams")["streams"]}
    assert streams["cam1"]["state"] == "streaming" and streams["cam1"]["live"]
    assert streams["cam2"] == {**streams["cam2"], "state": "failed", "live": False, "last_error": "connection refused"}
    assert streams["cam3"]["state"] == "connecting" and streams["cam3"]["url"] is None  # configured, not yet stored
    for path in ("/api/highlights?since=yesterday", "/api/highlights?limit=0", "/api/highlights?before=12",
                 "/api/scores", "/api/scores?stream=cam1&max_points=x"):
        status, headers, body = get(server, path)
        assert status == 400 and headers["content-type"] == "application/json", path
        error = json.loads(body)["error"]
        assert error and "\n" not in error and "Traceback" not in error, path
    assert get(server, "/nothing")[0] == 404


def test_clips_are_served_with_ranges_and_only_when_stored(server: WebServer, history, bikes_mp4: Path):
    data = bikes_mp4.read_bytes()
    status, headers, body = get(server, "/clips/a1")
    assert status == 200 and body == data and headers["accept-ranges"] == "bytes"
    assert headers["content-type"] == "video/mp4"
    status, headers, body = get(server, "/clips/a1", {"Range": "bytes=100-199"})
    assert status == 206 and body == data[100:200] and headers["content-range"] == f"bytes 100-199/{len(data)}"
    status, headers, body = get(server, "/clips/a1", {"Range": "bytes=-50"})
    assert status == 206 and body == data[-50:]
    status, headers, body = get(server, "/clips/a1", {"Range": f"bytes={len(data) - 10}-"})
    assert status == 206 and body == data[-10:]
    status, headers, _ = get(server, "/clips/a1", {"Range": f"bytes={len(data)}-"})
    assert status == 416 and headers["content-range"] == f"bytes */{len(data)}"
    status, _, body = get(server, "/thumbnails/a1")
    assert status == 200 and body[:2] == b"\xff\xd8"  # a JPEG
    for path in ("/clips/a2", "/clips/nope", "/clips/..%2F..%2Fetc%2Fpasswd", "/thumbnails/b1"):
        assert get(server, path)[0] == 404, path


def _events(server: WebServer, after: float) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", f"/api/events?after={after}")
    reply = conn.getresponse()
    assert reply.status == 200 and reply.getheader("Content-Type") == "text/event-stream"
    return reply


def _next_event(reply: http.client.HTTPResponse, name: str, highlight_id: str | None = None) -> dict:
    """The next `name` event (of that highlight); the feed is at least once, so others may come first."""
    current = None
    while True:
        line = reply.fp.readline().decode().rstrip("\n")
        if line.startswith("event: "):
            current = line[len("event: "):]
        elif line.startswith("data: ") and current == name:
            data = json.loads(line[len("data: "):])
            if highlight_id is None or data["id"] == highlight_id:
                return data


def test_live_feed_pushes_new_and_changed_highlights(server: WebServer, store: StoreFiller, history):
    reply = _events(server, time.time())
    assert "cam1" in {s["stream_id"] for s in _next_event(reply, "streams")["streams"]}
    wall0 = time.time() - 30
    store.highlight("live1", "cam2", start=0.0, end=4.0, wall0=wall0, score=0.7, objects={"dog": 1}, phase="start")
    first = _next_event(reply, "highlight", "live1")
    assert first["id"] == "live1" and not first["closed"]
    store.highlight("live1", "cam2", start=0.0, end=9.0, wall0=wall0, score=0.8, objects={"dog": 2}, phase="end")
    second = _next_event(reply, "highlight", "live1")
    assert second["id"] == "live1" and second["closed"] and second["end"] == 9.0
    reply.close()


def test_a_missing_or_damaged_store_leaves_the_live_states(tmp_path: Path):
    for make in ("missing", "damaged"):
        path = tmp_path / make / "history.db"
        if make == "damaged":
            path.parent.mkdir()
            path.write_bytes(b"this is not a database\n" * 100)
        with WebServer(WebConfig(port=0), path, live_states=lambda: {"cam1": "streaming"}) as web:
            reply = get_json(web, "/api/streams")
            assert [s["stream_id"] for s in reply["streams"]] == ["cam1"]
            assert reply["history"] and "\n" not in reply["history"], reply
            assert get_json(web, "/api/highlights")["highlights"] == []
            assert get(web, "/")[0] == 200


def test_off_loopback_without_a_token_is_one_line():
    for host in ("0.0.0.0", "192.168.1.20", "::", "camera-box.local"):
        with pytest.raises(UserError) as err:
            WebServer(WebConfig(host=host, port=0), Path("unused.db"))
        assert str(err.value).startswith(f"web.host {host} needs web.token") and "\n" not in str(err.value)
    WebServer(WebConfig(host="0.0.0.0", port=0, token=TOKEN), Path("unused.db"))  # allowed, not started
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        WebServer(WebConfig(host=host, port=0), Path("unused.db"))


def test_a_token_is_required_on_every_request_and_stays_out_of_the_log(
    store: StoreFiller, history, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    with WebServer(WebConfig(port=0, token=TOKEN), store.path) as web:
        for path in ("/", "/api/highlights", "/clips/a1", "/api/events", "/static/app.js"):
            assert get(web, path)[0] == 401, path
        assert get(web, "/api/highlights", {"Authorization": "Bearer wrong"})[0] == 401
        assert get(web, "/api/highlights?token=wrong")[0] == 401
        assert get(web, "/api/highlights", {"Authorization": f"Bearer {TOKEN}"})[0] == 200
        status, headers, _ = get(web, f"/?token={TOKEN}")  # the first page load: the browser gets a cookie
        assert status == 200 and TOKEN not in headers["set-cookie"]
        cookie = headers["set-cookie"].split(";", 1)[0]
        assert get(web, "/clips/a1", {"Cookie": cookie, "Range": "bytes=0-9"})[0] == 206
        assert get(web, "/api/streams", {"Cookie": "vgsum_token=forged"})[0] == 401
    assert "/clips/a1" in caplog.text and TOKEN not in caplog.text
    assert TOKEN not in repr(WebConfig(token=TOKEN))


def test_the_timeline_keeps_peaks_and_gaps(server: WebServer, store: StoreFiller):
    wall0 = time.time() - DAY
    burst = [(float(t), 0.1) for t in range(100)] + [(float(t), 0.1) for t in range(1000, 1100)]
    burst[42] = (42.0, 0.95)
    store.scores("gappy", wall0, burst)
    points = get_json(server, "/api/scores", stream="gappy", max_points=11)["points"]
    times = [p[1] for p in points]
    assert all(t < 100 or t >= 1000 for t in times)  # nothing drawn where the stream was down
    assert len(points) == 2 and points[0][1:] == [42.0, 0.95]  # the peak survives the thinning


def test_a_numeric_token_in_yaml_is_a_token_not_an_error_that_prints_it():
    from vgsum.runtime.common.configfile import parse_config

    cfg = parse_config({"host": "0.0.0.0", "token": 83920174}, WebConfig)
    assert cfg.token is not None and cfg.token.get_secret_value() == "83920174"
    with pytest.raises(UserError) as err:
        parse_config({"token": ["83920174"]}, WebConfig)
    assert "83920174" not in str(err.value)
