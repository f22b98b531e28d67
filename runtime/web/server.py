"""The history page's HTTP server: the page, its JSON API, clips, thumbnails and live events.

Why stdlib `ThreadingHTTPServer` (as the metrics server): a dozen routes, no
templates, a handful of clients; a framework would add more to the edge install
than this module holds. A thread per connection also suits server-sent events,
which hold their connection open.

Routes:

    GET  /                    the page (static/index.html); /static/<file> its JS and CSS
    GET  /api/streams         streams with live state (the daemon's) or the store's last one
    GET  /api/highlights      ?stream=&since=&until=&object=&query=&before=&limit=, newest first
    GET  /api/scores          ?stream=&since=&until=&max_points=, final scores for a timeline
    GET  /api/events          server-sent events: `highlight` and `streams` (see `live`)
    GET  /clips/<id>          the clip the store recorded for that highlight (HTTP Range)
    GET  /thumbnails/<id>     its thumbnail
    POST /api/recaps          {streams, since, until, query, object, budget}: make a recap in the background;
                              202 with its id (recaps.py; 404 when the server has no recap service)
    GET  /api/recaps          {"service": bool, "recaps": [...]}: whether recaps can be made, and the latest
    GET  /api/recaps/<id>     a recap's state: queued, running, done (with its parts), failed or empty
    GET  /recaps/<id>.mp4     the recap's video, and /recaps/<id>.vtt its captions (HTTP Range)

With a token set, every request must carry it (see `auth`); else 401. The token
never reaches the log: request lines are logged without their query string.

A POST must say `Content-Type: application/json`, and when it carries an `Origin`
it must be this server's: a form or script on another site cannot send that type
without the browser asking first (CORS), which this server never allows, so only
the page itself starts recaps (a recap costs minutes of CPU).
"""

from __future__ import annotations

import json
import logging
import mimetypes
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

from vgsum.runtime.common.network import HttpService
from vgsum.runtime.store.postgres import PostgresTarget
from vgsum.runtime.web import api, live
from vgsum.runtime.web.auth import TokenGate
from vgsum.runtime.web.config import WebConfig
from vgsum.runtime.web.files import Span, Unsatisfiable, copy_span, parse_range
from vgsum.runtime.web.recaps import MAX_BODY_BYTES, RecapService, read_ask, with_urls
from vgsum.stream.errors import UserError

log = logging.getLogger(__name__)

RECAP_FILES: dict[str, tuple[Literal["mp4", "vtt"], str]] = {
    ".mp4": ("mp4", "video/mp4"), ".vtt": ("vtt", "text/vtt; charset=utf-8"),
}
STATIC = {"index.html": "text/html; charset=utf-8", "app.js": "text/javascript; charset=utf-8",
          "style.css": "text/css; charset=utf-8"}
# The page loads nothing from elsewhere; this keeps it so even if a stored field carried markup.
CSP = "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; script-src 'self'"


def _static(name: str) -> bytes:
    return files("vgsum.runtime.web").joinpath("static", name).read_bytes()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A browser that closes a connection (a seek in a clip, a closed tab) is routine, not a traceback."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            log.debug("web: %s:%s went away", *client_address[:2])
        else:
            log.exception("web: request from %s failed", client_address[0])


def _handler_class(web: WebServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "vgsum-web"
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            url = urlsplit(self.path)
            path = unquote(url.path)
            query = parse_qs(url.query)
            if not web.gate.admits(self.headers, query):
                self._json(401, {"error": "this page needs its token: Authorization: Bearer TOKEN or ?token=TOKEN"})
                return
            cookie = web.gate.cookie() if web.gate.required and "token" in query else None
            try:
                self._route(path, query, cookie)
            except api.BadRequest as err:
                self._json(400, {"error": str(err)})
            except (BrokenPipeError, ConnectionResetError):
                pass

        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            self.close_connection = True  # a refusal leaves the body unread: the connection carries nothing more
            url = urlsplit(self.path)
            path = unquote(url.path)
            if not web.gate.admits(self.headers, parse_qs(url.query)):
                self._json(401, {"error": "this page needs its token: Authorization: Bearer TOKEN or ?token=TOKEN"})
                return
            try:
                if path != "/api/recaps":
                    self._json(404, {"error": f"no such page: {path[:80]}"})
                elif web.recaps is None:
                    self._json(404, {"error": "this server makes no recaps (it runs without the daemon's store)"})
                else:
                    self._new_recap(web.recaps)
            except api.BadRequest as err:
                self._json(400, {"error": str(err)})
            except (BrokenPipeError, ConnectionResetError):
                pass

        def _new_recap(self, service: RecapService) -> None:
            content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if content_type != "application/json":
                self._json(415, {"error": "send the recap request as Content-Type: application/json"})
                return
            origin = self.headers.get("Origin")
            if origin is not None and urlsplit(origin).netloc != (self.headers.get("Host") or ""):
                self._json(403, {"error": "recaps are asked for from this server's own page only"})
                return
            try:
                length = int(self.headers.get("Content-Length") or "")
            except ValueError:
                self._json(411, {"error": "the request needs a Content-Length"})
                return
            if not 0 <= length <= MAX_BODY_BYTES:
                self._json(413, {"error": f"body is {length} bytes; the limit is {MAX_BODY_BYTES}"})
                return
            ask = read_ask(self.rfile.read(length))
            busy = service.busy()
            if busy is not None:
                self._json(429, {"error": busy})
                return
            try:
                recap_id = service.submit(streams=ask.streams, since=ask.since, until=ask.until, budget=ask.budget,
                                          query=ask.query, label=ask.label)
            except UserError as err:
                raise api.BadRequest(str(err)) from None
            self._json(202, {"id": recap_id, "state": "queued", "url": f"/api/recaps/{recap_id}"})

        def _route(self, path: str, query: dict[str, list[str]], cookie: str | None) -> None:
            if path in ("/", "/index.html"):
                self._reply(200, STATIC["index.html"], _static("index.html"), cookie=cookie)
            elif path.startswith("/static/") and path[len("/static/"):] in STATIC:
                name = path[len("/static/"):]
                self._reply(200, STATIC[name], _static(name), cookie=cookie)
            elif path == "/api/streams":
                self._json(200, api.streams(web.access, web.live, web.regions))
            elif path == "/api/highlights":
                self._json(200, api.highlights(web.access, query))
            elif path == "/api/scores":
                self._json(200, api.scores(web.access, query))
            elif path == "/api/events":
                self._events(query)
            elif path.startswith("/clips/"):
                self._file(path[len("/clips/"):], "clip", "video/mp4")
            elif path.startswith("/thumbnails/"):
                self._file(path[len("/thumbnails/"):], "thumbnail", "image/jpeg")
            elif path == "/api/recaps":
                recent = [] if web.recaps is None else [with_urls(r) for r in web.recaps.recent()]
                self._json(200, {"service": web.recaps is not None, "recaps": recent})
            elif path.startswith("/api/recaps/"):
                recap_id = path[len("/api/recaps/"):]
                state = None if web.recaps is None else web.recaps.state(recap_id)
                if state is None:
                    self._json(404, {"error": f"no recap {recap_id[:80]!r}"})
                else:
                    self._json(200, with_urls(state))
            elif path.startswith("/recaps/"):
                self._recap_file(path[len("/recaps/"):])
            else:
                self._json(404, {"error": f"no such page: {path[:80]}"})

        def _events(self, query: dict[str, list[str]]) -> None:
            after = self.headers.get("Last-Event-ID") or api._one(query, "after")
            try:
                position = float(after) if after else None
            except ValueError:
                raise api.BadRequest("after must be unix seconds") from None
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True

            def write(data: bytes) -> None:
                self.wfile.write(data)
                self.wfile.flush()

            live.feed(write, web.access, web.live, web.stopping, position, poll_s=web.poll_s, regions=web.regions)

        def _file(self, highlight_id: str, kind: str, default_type: str) -> None:
            path = api.clip_path(web.access, highlight_id, kind)
            self._send_file(path, default_type, f"no {kind} stored for highlight {highlight_id[:80]!r}")

        def _recap_file(self, name: str) -> None:
            recap_id, dot, suffix = name.rpartition(".")
            found = RECAP_FILES.get(dot + suffix)
            path = None if found is None or web.recaps is None else web.recaps.file(recap_id, found[0])
            content_type = found[1] if found is not None else "application/octet-stream"
            self._send_file(path, content_type, f"no recap file {name[:80]!r}", content_type=content_type)

        def _send_file(
            self, path: Path | None, default_type: str, missing: str, content_type: str | None = None
        ) -> None:
            """A file with single byte ranges (files.py), or 404 with `missing` when it is not there (any more)."""
            try:
                size = -1 if path is None else path.stat().st_size
            except OSError:  # retention deleted it a moment ago
                size = -1
            if path is None or size < 0:
                self._json(404, {"error": missing})
                return
            try:
                span = parse_range(self.headers.get("Range"), size)
            except Unsatisfiable:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            content_type = content_type or mimetypes.guess_type(path.name)[0] or default_type
            self.send_response(200 if span is None else 206)
            self.send_header("Content-Type", content_type)
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Cache-Control", "private, max-age=3600")
            if span is not None:
                self.send_header("Content-Range", span.content_range())
            whole = span or Span(0, size - 1, size)
            self.send_header("Content-Length", str(whole.length if size else 0))
            self.end_headers()
            if size:
                copy_span(path, whole, self.wfile)

        def _json(self, code: int, body: dict[str, Any]) -> None:
            self._reply(code, "application/json", json.dumps(body, separators=(",", ":")).encode())

        def _reply(self, code: int, content_type: str, body: bytes, cookie: str | None = None) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Security-Policy", CSP)
            self.send_header("X-Content-Type-Options", "nosniff")
            if cookie is not None:
                self.send_header("Set-Cookie", cookie)
            self.end_headers()
            self.wfile.write(body)

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            # the request line without its query string: `?token=` stays out of the log
            log.debug("web %s %s %s", self.command, urlsplit(self.path).path, code)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's name)
            log.debug("web: " + format, *args)

    return Handler


class WebServer:
    """The history page of one store, in a background thread. Port 0 picks a free port (see `port`)."""

    def __init__(
        self,
        cfg: WebConfig,
        store_path: Path | PostgresTarget,
        *,
        live_states: api.LiveStates | None = None,
        poll_s: float = live.POLL_S,
        text_engine: Any | None = None,
        regions: api.Regions | None = None,
        recaps: RecapService | None = None,
    ) -> None:
        cfg.check_binding()  # before any socket exists: a page open to the network without a token is refused
        self.cfg = cfg
        self.gate = TokenGate(cfg.token.get_secret_value() if cfg.token is not None else None)
        self.access = api.StoreAccess(store_path, text_engine)
        self.regions = regions
        self.recaps = recaps  # makes the page's recaps (the daemon's `RecapJobs`); None hides the Recap control
        self.live = live_states
        self.poll_s = poll_s
        self.stopping = threading.Event()
        self.http = HttpService("web", cfg.host, cfg.port, _handler_class(self), server_class=_Server)

    @property
    def port(self) -> int | None:
        """The bound port (after `start`)."""
        return self.http.port

    def start(self) -> int:
        """Bind and serve; returns the real port. UserError when the port cannot be bound."""
        port = self.http.start()
        log.info("history page on %s/%s", self.url, " (token required)" if self.gate.required else "")
        return port

    @property
    def url(self) -> str:
        """Base URL of the page (after `start`), without the token."""
        return self.http.url

    def stop(self, timeout: float = 2.0) -> None:
        """Stop serving, end the live feeds and close the port. Idempotent."""
        self.stopping.set()
        self.http.stop(timeout)
        self.access.close()

    def __enter__(self) -> WebServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
