"""The history page's HTTP server: the page, its JSON API, clips, thumbnails and live events.

Why stdlib `ThreadingHTTPServer` (as the metrics server): a dozen routes, no
templates, a handful of clients; a framework would add more to the edge install
than this module holds. A thread per connection also suits server-sent events,
which hold their connection open.

Routes (GET only):

    /                         the page (static/index.html); /static/<file> its JS and CSS
    /api/streams              streams with live state (the daemon's) or the store's last one
    /api/highlights           ?stream=&since=&until=&object=&query=&before=&limit=, newest first
    /api/scores               ?stream=&since=&until=&max_points=, final scores for a timeline
    /api/events               server-sent events: `highlight` and `streams` (see `live`)
    /clips/<id>               the clip the store recorded for that highlight (HTTP Range)
    /thumbnails/<id>          its thumbnail

With a token set, every request must carry it (see `auth`); else 401. The token
never reaches the log: request lines are logged without their query string.
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
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from vgsum.runtime.common.network import HttpService
from vgsum.runtime.web import api, live
from vgsum.runtime.web.auth import TokenGate
from vgsum.runtime.web.config import WebConfig
from vgsum.runtime.web.files import Span, Unsatisfiable, copy_span, parse_range

log = logging.getLogger(__name__)

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
            try:
                size = -1 if path is None else path.stat().st_size
            except OSError:  # retention deleted it a moment ago
                size = -1
            if path is None or size < 0:
                self._json(404, {"error": f"no {kind} stored for highlight {highlight_id[:80]!r}"})
                return
            try:
                span = parse_range(self.headers.get("Range"), size)
            except Unsatisfiable:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            content_type = mimetypes.guess_type(path.name)[0] or default_type
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
        store_path: Path,
        *,
        live_states: api.LiveStates | None = None,
        poll_s: float = live.POLL_S,
        text_engine: Any | None = None,
        regions: api.Regions | None = None,
    ) -> None:
        cfg.check_binding()  # before any socket exists: a page open to the network without a token is refused
        self.cfg = cfg
        self.gate = TokenGate(cfg.token.get_secret_value() if cfg.token is not None else None)
        self.access = api.StoreAccess(store_path, text_engine)
        self.regions = regions
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
