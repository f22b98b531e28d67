"""The page's recap routes over HTTP with a real client, a real store of real clips and the real recap service.

`POST /api/recaps` queues a recap on `RecapJobs` (the daemon's service), `GET /api/recaps/<id>` follows it to
`done` with its parts, and `/recaps/<id>.mp4|.vtt` serve the files with Range. Bad requests are one line (400),
an unknown recap is 404, the token covers the new routes, and finished page recaps are bounded.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from polling import wait_until
from recap_history import BIKES_GOPS, cut_clip
from web_history import StoreFiller

from vgsum.runtime.recap.jobs import RecapJobs
from vgsum.runtime.web.config import WebConfig
from vgsum.runtime.web.server import WebServer

TOKEN = "recap-token-91c2"
JSON = {"Content-Type": "application/json"}


def request(
    server: WebServer, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        reply = conn.getresponse()
        return reply.status, {k.lower(): v for k, v in reply.getheaders()}, reply.read()
    finally:
        conn.close()


def post(server: WebServer, body: object, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    status, _, reply = request(server, "POST", "/api/recaps", raw, {**JSON, **(headers or {})})
    return status, json.loads(reply)


def follow(server: WebServer, recap_id: str, headers: dict[str, str] | None = None, timeout: float = 60) -> dict:
    """The recap's state once it is finished."""

    def finished() -> dict | None:
        status, _, body = request(server, "GET", f"/api/recaps/{recap_id}", headers=headers)
        assert status == 200, body
        state = json.loads(body)
        return state if state["state"] in ("done", "failed", "empty") else None

    return wait_until(finished, timeout, f"recap {recap_id} to finish", every=0.1)


@pytest.fixture(scope="session")
def recap_clips(bikes_mp4: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The sample's GOPs as clips, copied packet for packet as the daemon cuts its clips."""
    folder = tmp_path_factory.mktemp("recap-gops")
    return [cut_clip(bikes_mp4, a, b, folder / f"gop{i}.mp4") for i, (a, b) in enumerate(BIKES_GOPS)]


@pytest.fixture
def recap_history(store: StoreFiller, recap_clips: list[Path]) -> list[str]:
    """cam1 an hour ago: one highlight per GOP clip, 10 s apart; cam2 with no highlights at all."""
    wall0 = time.time() - 3600
    store.stream("cam1", "rtsp://cam1/stream", "streaming")
    store.stream("cam2", "rtsp://cam2/stream", "streaming")
    ids = []
    for i, clip in enumerate(recap_clips):
        (a, b), start = BIKES_GOPS[i], 10.0 * i
        store.highlight(f"h{i}", "cam1", start=start, end=start + (b - a), wall0=wall0, score=0.5 + 0.1 * i,
                        objects={"person": 1, "bicycle": 1}, query="a cyclist" if i == 2 else None, clip=clip)
        store.scores("cam1", wall0, [(start + k * 0.5, 0.3 + 0.1 * i) for k in range(int((b - a) * 2))])
        ids.append(f"h{i}")
    return ids


@pytest.fixture
def make_server(store: StoreFiller, tmp_path: Path) -> Iterator[Callable[..., tuple[WebServer, RecapJobs]]]:
    """`make_server(token=..., keep=..., max_waiting=...)`: a started page server with a started recap service."""
    made: list[tuple[WebServer, RecapJobs]] = []

    def make(token: str | None = None, **options: int) -> tuple[WebServer, RecapJobs]:
        jobs = RecapJobs(store.path, tmp_path / f"recaps{len(made)}", **options).start()
        web = WebServer(WebConfig(port=0, token=token), store.path, recaps=jobs)
        web.start()
        made.append((web, jobs))
        return web, jobs

    yield make
    for web, jobs in made:
        web.stop()
        jobs.stop()


def test_a_recap_is_made_in_the_background_and_served_with_ranges(make_server, recap_history, recap_clips):
    import av

    web, jobs = make_server()
    status, reply = post(web, {"streams": ["cam1"], "budget": "90s"})
    assert status == 202 and reply["state"] == "queued" and reply["url"] == f"/api/recaps/{reply['id']}"
    state = follow(web, reply["id"])
    assert state["state"] == "done", state
    assert state["streams"] == ["cam1"] and state["budget"] == "90s" and state["error"] is None
    parts = state["parts"]
    assert [p["highlight_id"] for p in parts] == recap_history  # every GOP fits in 90 s, in time order
    assert all("clip" not in p for p in parts)  # the page gets URLs, never the daemon's file paths
    assert "cam1" in parts[0]["caption"] and parts[0]["why"]
    starts = [p["recap_start"] for p in parts]
    assert starts == sorted(starts) and starts[0] == 0.0 and parts[-1]["recap_end"] == pytest.approx(state["duration"])
    assert state["video_url"] == f"/recaps/{reply['id']}.mp4" and state["captions_url"] == f"/recaps/{reply['id']}.vtt"

    status, headers, video = request(web, "GET", state["video_url"])
    assert status == 200 and headers["content-type"] == "video/mp4" and headers["accept-ranges"] == "bytes"
    status, headers, head = request(web, "GET", state["video_url"], headers={"Range": "bytes=0-99"})
    assert status == 206 and head == video[:100] and headers["content-range"] == f"bytes 0-99/{len(video)}"
    written = jobs.file(reply["id"], "mp4")
    assert written is not None and written.read_bytes() == video
    with av.open(str(written)) as container:  # a real H.264 MP4 of the parts
        assert container.streams.video[0].codec_context.name == "h264"
        assert len(container.chapters()) == len(parts)
    status, headers, captions = request(web, "GET", state["captions_url"])
    assert status == 200 and headers["content-type"].startswith("text/vtt")
    assert captions.startswith(b"WEBVTT") and captions.count(b" --> ") == len(parts)

    status, _, body = request(web, "GET", "/api/recaps")
    listed = json.loads(body)
    assert status == 200 and listed["service"] is True
    assert [r["id"] for r in listed["recaps"]] == [reply["id"]] and "parts" not in listed["recaps"][0]


def test_nothing_to_recap_is_a_state_with_one_line_not_an_error(make_server, recap_history):
    web, _ = make_server()
    status, reply = post(web, {"streams": "cam2", "since": "-2h", "until": "now", "budget": "1m"})
    assert status == 202
    state = follow(web, reply["id"])
    assert state["state"] == "empty" and state["error"] is None and state["video_url"] is None
    assert state["message"].startswith("nothing to recap: no highlights of cam2") and "\n" not in state["message"]
    assert request(web, "GET", f"/recaps/{reply['id']}.mp4")[0] == 404


def test_a_query_recaps_only_the_highlights_that_answer_it(make_server, recap_history):
    web, _ = make_server()  # no text engine: the stored query text is matched, as the page's search does then
    status, reply = post(web, {"query": "cyclist", "budget": "1m"})
    assert status == 202
    state = follow(web, reply["id"])
    assert state["state"] == "done" and [p["highlight_id"] for p in state["parts"]] == ["h2"]
    assert state["query"] == "cyclist" and state["streams"] is None


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        (b"not json", 400, "body is not JSON"),
        (b"[1, 2]", 400, "body must be a JSON object"),
        ({"budget": "3m", "colour": "red"}, 400, "colour: unknown key"),
        ({"budget": "3 parsecs"}, 400, "budget '3 parsecs': give seconds"),
        ({"budget": "0s"}, 400, "budget '0s': must be more than 0 s"),
        ({"since": "-1m", "budget": "3m"}, 400, "longer than the time range"),
        ({"since": "yesterday"}, 400, "since 'yesterday': give an ISO time"),
        ({"since": "-1h", "until": "-2h"}, 400, "until must be after since"),
        ({"streams": ["cam9"]}, 400, "unknown stream 'cam9'; the history holds: cam1, cam2"),
        ({"streams": [3]}, 400, "streams.0"),
        ({"query": "x" * 201}, 400, "query: String should have at most 200 characters"),
    ],
)
def test_a_bad_recap_request_is_one_line_and_queues_nothing(make_server, recap_history, body, status, fragment):
    web, jobs = make_server()
    got, reply = post(web, body)
    assert got == status and fragment in reply["error"], reply
    assert "\n" not in reply["error"] and "Traceback" not in reply["error"]
    assert jobs.recent() == []


def test_a_recap_request_from_another_site_or_of_another_type_is_refused(make_server, recap_history):
    web, jobs = make_server()
    status, _, body = request(web, "POST", "/api/recaps", b'{"budget": "3m"}', {"Content-Type": "text/plain"})
    assert status == 415 and "application/json" in json.loads(body)["error"]
    status, reply = post(web, {"budget": "3m"}, {"Origin": "http://evil.example"})
    assert status == 403 and "own page" in reply["error"]
    status, reply = post(web, b"{" + b" " * 20_000 + b"}")
    assert status == 413 and "limit" in reply["error"]
    assert post(web, {"budget": "3m"}, {"Origin": f"http://127.0.0.1:{web.port}"})[0] == 202  # the page's own
    assert request(web, "POST", "/api/highlights", b"{}", JSON)[0] == 404
    assert len(jobs.recent()) == 1


def test_unknown_recaps_and_files_are_404(make_server, recap_history, store: StoreFiller):
    web, _ = make_server()
    for path in ("/api/recaps/nope", "/recaps/nope.mp4", "/recaps/nope.vtt", "/recaps/..%2F..%2Fetc%2Fpasswd",
                 "/recaps/", "/api/recaps/"):
        status, headers, body = request(web, "GET", path)
        assert status == 404 and headers["content-type"] == "application/json", path
        assert "\n" not in json.loads(body)["error"]
    status, reply = post(web, {"streams": ["cam1"], "budget": "30s"})
    state = follow(web, reply["id"])
    assert state["state"] == "done"
    assert request(web, "GET", f"/recaps/{reply['id']}.json")[0] == 404  # only the video and its captions
    assert request(web, "GET", f"/recaps/{reply['id']}.mp4")[0] == 200

    with WebServer(WebConfig(port=0), store.path) as bare:  # a page server with no recap service
        status, _, body = request(bare, "GET", "/api/recaps")
        assert status == 200 and json.loads(body) == {"service": False, "recaps": []}
        status, _, body = request(bare, "POST", "/api/recaps", b"{}", JSON)
        assert status == 404 and "makes no recaps" in json.loads(body)["error"]
        assert request(bare, "GET", f"/api/recaps/{reply['id']}")[0] == 404


def test_the_token_covers_the_recap_routes(make_server, recap_history):
    web, _ = make_server(token=TOKEN)
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert post(web, {"budget": "30s"})[0] == 401
    assert post(web, {"budget": "30s"}, {"Authorization": "Bearer wrong"})[0] == 401
    status, reply = post(web, {"streams": ["cam1"], "budget": "30s"}, bearer)
    assert status == 202
    for path in ("/api/recaps", f"/api/recaps/{reply['id']}", f"/recaps/{reply['id']}.mp4"):
        assert request(web, "GET", path)[0] == 401, path
    assert follow(web, reply["id"], headers=bearer)["state"] == "done"
    status, headers, _ = request(web, "GET", f"/?token={TOKEN}")
    cookie = headers["set-cookie"].split(";", 1)[0]  # what the page's <video> and <track> carry
    assert request(web, "GET", f"/recaps/{reply['id']}.mp4", headers={"Cookie": cookie, "Range": "bytes=0-9"})[0] == 206
    assert request(web, "GET", f"/recaps/{reply['id']}.vtt", headers={"Cookie": cookie})[0] == 200


def test_the_page_is_told_to_wait_and_old_page_recaps_are_deleted(make_server, recap_history):
    web, _ = make_server(max_waiting=0)
    status, reply = post(web, {"budget": "30s"})
    assert status == 429 and reply["error"].endswith("ask again when one is done")

    web, jobs = make_server(keep=1)
    first = post(web, {"streams": ["cam1"], "budget": "30s"})[1]["id"]
    assert follow(web, first)["state"] == "done"
    video = jobs.file(first, "mp4")
    assert video is not None and video.is_file() and video.with_suffix(".vtt").is_file()
    second = post(web, {"streams": ["cam1"], "budget": "20s"})[1]["id"]
    assert follow(web, second)["state"] == "done"
    assert not video.exists() and not video.with_suffix(".vtt").exists() and not video.with_suffix(".json").exists()
    assert request(web, "GET", f"/api/recaps/{first}")[0] == 404
    assert [r["id"] for r in json.loads(request(web, "GET", "/api/recaps")[2])["recaps"]] == [second]
