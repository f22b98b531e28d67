"""`MqttBridge`: the daemon's published messages to an MQTT broker, without ever holding up scoring.

Why it looks like the store's writer: it hangs off `Publisher.observers`, so
`record` runs on the publishing thread (the pipeline's), under the publisher's
lock. It only puts the message in a bounded queue; a full queue counts a drop for
that stream. One bridge thread turns messages into topics (`topics.py`), encodes
thumbnails and hands them to paho; paho's network loop runs in a thread of its
own and reconnects with exponential backoff (`reconnect_min_s` doubling up to
`reconnect_max_s`). A broker that is down at start, or goes away, costs only the
messages past the bounds:

- `event` and `highlight` messages go out at QoS 1 whether or not the broker is
  there: paho keeps them, unacknowledged, and sends them when the connection is
  back (in order, before newer ones in practice, but consumers order by `seq`).
  Past `pending_max` kept messages a new one is dropped and counted.
- the retained topics (stream state, activity, last highlight, thumbnail, the
  latest daily recap, availability, discovery) hold a latest value, not a history: while the broker is
  away only the bridge's copy changes, and every connect publishes the current
  copies, so a restarted broker (or Home Assistant, on its `online` birth message)
  gets the present state, never a stale one replayed after a newer one.

The last will (`<prefix>/availability` = `offline`, retained) tells subscribers
when the daemon dies or loses the network; `stop` says `offline` itself, since a
clean disconnect does not fire the will.

Commands (`mqtt.commands: true`): `<prefix>/<stream>/queries/set` with
`{"queries": [...]}`, checked like a control-socket request (size, strict UTF-8,
a JSON object, the pydantic form with `extra="forbid"`), then handed to the
`set_queries` callback, which applies the daemon's own rules (a `ValueError` or
`UserError` from it is the one-line error of the reply). Retained commands are
refused: a broker would replay one at every reconnect, undoing later changes.

Secrets: the password is read at `start` and given to paho only; no log line,
error or counter here includes it, nor the username.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import ValidationError

from vgsum.runtime.common.errors import UserError
from vgsum.runtime.common.json_input import json_object
from vgsum.runtime.mqtt.config import MqttConfig
from vgsum.runtime.mqtt.discovery import discovery_configs
from vgsum.runtime.mqtt.topics import (
    ACTIVITY_OFF,
    ACTIVITY_ON,
    AVAILABLE,
    MAX_COMMAND_BYTES,
    NOT_AVAILABLE,
    LastHighlightPayload,
    QueriesCommand,
    QueriesReply,
    StreamStatePayload,
    Topics,
    highlight_summary,
    one_line,
)
from vgsum.stream.messages import EventMessage, HighlightMessage, MessageBase, RecapMessage, StatusMessage
from vgsum.stream.redact import redact_text

if TYPE_CHECKING:
    import paho.mqtt.client as mqtt

log = logging.getLogger(__name__)

BRIDGED_KINDS = frozenset({"status", "event", "highlight", "recap"})
DAEMON = ""  # the `dropped` key of messages about the whole daemon (availability, discovery)
TICK_S = 0.1  # how often the bridge thread looks at its flags when idle
CONNECT_TIMEOUT_S = 5.0
REASSERT_RETRY_S = 0.5  # a stalled broker: how often the retained values are offered again

SetQueries = Callable[[str, list[str]], object]
GetQueries = Callable[[str], list[str]]


class MqttBridge:
    """Bounded queue in, MQTT out. `start()` never waits for the broker; `stop()` returns within its timeout."""

    def __init__(
        self,
        cfg: MqttConfig,
        stream_ids: Iterable[str],
        *,
        set_queries: SetQueries | None = None,
        get_queries: GetQueries | None = None,
    ) -> None:
        if cfg.commands and set_queries is None:
            raise ValueError("mqtt.commands needs a set_queries callback")
        self.cfg = cfg
        self.stream_ids = list(stream_ids)
        self.topics = Topics(cfg.topic_prefix)
        self._set_queries = set_queries
        self._get_queries = get_queries
        self._queue: queue.Queue[tuple] = queue.Queue(maxsize=cfg.queue_size)
        self._client: mqtt.Client | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._abandon = threading.Event()
        self._reassert = threading.Event()  # set on connect and on Home Assistant's birth: publish retained copies
        self._reassert_after = 0.0  # monotonic time before which a retry of the retained copies waits
        self._lock = threading.Lock()  # guards the counters and `_unacked` (paho calls back from its own thread)
        self._unacked: dict[int, tuple[str, bool]] = {}  # message id -> (stream id, history), held by paho
        self._kept = 0  # how many of `_unacked` are history (event, highlight): bounded by pending_max
        self._early_acks: set[int] = set()  # acks that came before `publish` returned their id
        # latest values of the retained topics, per stream (also republished on every connect)
        self._retained: dict[str, bytes] = {self.topics.activity(sid): ACTIVITY_OFF.encode() for sid in self.stream_ids}
        self._states: dict[str, tuple[str, str | None]] = {}
        self._outage_logged = False
        self.connected = False
        self.subscribed = False  # the broker granted this connection's subscriptions (commands, Home Assistant)
        self.dropped: Counter[str] = Counter()  # stream id -> messages the broker will not get from this bridge
        self.sent = 0  # QoS 1 messages the broker acknowledged
        self.thread_cpu_s = 0.0  # the bridge thread's CPU time, set when it ends (benchmarks)
        self.connects = 0
        self.disconnects = 0  # connections lost (not counting stop)
        self.commands = 0
        self.command_errors = 0
        self.last_error: str | None = None  # the latest connection problem, one line (no secrets)

    # -- life cycle -------------------------------------------------------------------
    def start(self) -> MqttBridge:
        """Build the client (UserError for a missing paho, an unreadable password or bad TLS files) and start."""
        try:
            import paho.mqtt.client as mqtt
        except ImportError:
            raise UserError("mqtt.enabled needs paho-mqtt: pip install 'vgsum[mqtt]'") from None
        cfg = self.cfg
        client_id = cfg.client_id or f"{cfg.node_id}-{uuid.uuid4().hex[:8]}"
        client = mqtt.Client(
            callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv311,
            clean_session=True,
        )
        if cfg.username is not None:
            client.username_pw_set(cfg.username, cfg.read_password())
        if cfg.tls is not None:
            try:
                client.tls_set(
                    ca_certs=_str(cfg.tls.ca_file), certfile=_str(cfg.tls.cert_file), keyfile=_str(cfg.tls.key_file)
                )
            except (OSError, ValueError) as err:  # ssl.SSLError is an OSError: a file that is not PEM, a wrong key
                raise UserError(f"mqtt.tls: cannot use the certificate files ({_ssl_reason(err)})") from None
        client.will_set(self.topics.availability, NOT_AVAILABLE, qos=1, retain=True)
        # room for one connect's retained values (availability, discovery, 5 topics per stream) beside a full backlog
        client.max_queued_messages_set(cfg.pending_max + 16 + 12 * len(self.stream_ids))
        client.reconnect_delay_set(min_delay=cfg.reconnect_min_s, max_delay=cfg.reconnect_max_s)
        client.connect_timeout = CONNECT_TIMEOUT_S
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        client.connect_async(cfg.host, cfg.port, keepalive=cfg.keepalive_s)
        self._client = client
        client.loop_start()  # paho's network thread: connects, and reconnects with backoff, on its own
        self._thread = threading.Thread(target=self._run, name="mqtt-bridge", daemon=True)
        self._thread.start()
        log.info("mqtt: bridging to %s:%d%s, topics under %s/", cfg.host, cfg.port, " (TLS)" if cfg.tls else "",
                 cfg.topic_prefix)
        return self

    def stop(self, timeout_s: float = 1.0) -> None:
        """Hand over what is queued, say `offline`, wait for acks until `timeout_s`; what is left counts as dropped."""
        if self._thread is None or self._client is None:
            return
        deadline = time.monotonic() + timeout_s
        self._stop.set()
        self._thread.join(max(0.0, deadline - time.monotonic()))
        self._abandon.set()  # a thread still busy past the deadline hands nothing more to paho
        left = self._discard_queue()
        client = self._client
        if client.is_connected():
            self._publish(DAEMON, self.topics.availability, NOT_AVAILABLE.encode(), retain=True)
            while time.monotonic() < deadline and self._unacked_count():
                time.sleep(0.01)
        with self._lock:
            for sid, _history in self._unacked.values():
                self.dropped[sid] += 1
                left += 1
            self._unacked.clear()
            self._kept = 0
        if left:
            log.warning("mqtt: %d messages not delivered before the stop deadline", left)
        client.disconnect()
        stopper = threading.Thread(target=client.loop_stop, name="mqtt-stop", daemon=True)
        stopper.start()  # paho joins its thread without a timeout: a hung connect must not hold up the daemon
        stopper.join(max(0.05, deadline - time.monotonic()))
        self.connected = False
        self._thread = None

    def stats(self) -> dict[str, Any]:
        """Counters for the control socket's status and /metrics (no secrets)."""
        return {
            "connected": self.connected,
            "dropped": dict(self.dropped),
            "pending": self._unacked_count(),  # QoS 1 messages not yet acknowledged by the broker
            "sent": self.sent,
            "disconnects": self.disconnects,
            "commands": self.commands,
            "command_errors": self.command_errors,
            "last_error": self.last_error,
        }

    # -- the caller's side: never waits -------------------------------------------------
    def record(self, message: MessageBase, payload: str | None = None) -> None:
        """Queue a published message (status, event, highlight, recap; others are ignored). `payload`: its JSON."""
        if message.kind in BRIDGED_KINDS:
            self._put(message.stream_id, ("msg", message, payload))

    def thumbnail(self, stream_id: str, highlight_id: str, rgb: np.ndarray | bytes) -> None:
        """Queue a highlight's picture (RGB, or JPEG bytes): the retained `<prefix>/<stream>/thumbnail`."""
        self._put(stream_id, ("thumb", stream_id, highlight_id, rgb))

    def _put(self, stream_id: str, item: tuple) -> None:
        if self._thread is None or self._stop.is_set():
            with self._lock:
                self.dropped[stream_id] += 1
            return
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            with self._lock:  # never held across I/O: the publishing thread waits for a counter at most
                self.dropped[stream_id] += 1

    # -- the bridge thread ---------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._loop()
        finally:
            self.thread_cpu_s = time.thread_time()  # this thread's whole CPU (not paho's), for `vgsum bench pipeline`

    def _loop(self) -> None:
        while not self._abandon.is_set():
            if (
                self._reassert.is_set()
                and time.monotonic() >= self._reassert_after
                and self._client is not None
                and self._client.is_connected()
            ):
                self._reassert.clear()
                self._publish_retained()
            try:
                item = self._queue.get(timeout=TICK_S)
            except queue.Empty:
                if self._stop.is_set():
                    return
                continue
            try:
                self._handle(item)
            except Exception:  # a bug must not end the bridge: the next message may go out fine
                log.exception("mqtt: could not bridge a %s item", item[0])

    def _handle(self, item: tuple) -> None:
        if item[0] == "thumb":
            _, sid, _highlight_id, picture = item
            if not isinstance(picture, bytes):
                from vgsum.runtime.common.jpeg import encode_jpeg

                picture = encode_jpeg(np.asarray(picture, np.uint8))
            self._set_retained(sid, self.topics.thumbnail(sid), picture)
            return
        message, payload = item[1], item[2]
        sid = message.stream_id
        if isinstance(message, StatusMessage):
            error = redact_text(message.last_error) if message.last_error else None
            if self._states.get(sid) == (message.state.value, error):
                return
            self._states[sid] = (message.state.value, error)
            state = StreamStatePayload(
                stream_id=sid, state=message.state, last_error=error, wall_time=message.wall_time
            )
            self._set_retained(sid, self.topics.state(sid), state.model_dump_json().encode())
            return
        data = (payload or message.model_dump_json()).encode()
        if isinstance(message, RecapMessage):  # one a day: retained, so a dashboard opened later shows the latest
            self._set_retained(sid, self.topics.recap(sid), data)
            return
        if isinstance(message, HighlightMessage):
            self._publish(sid, self.topics.highlight(sid), data, retain=False, history=True)
            return
        if isinstance(message, EventMessage):
            self._publish(sid, self.topics.event(sid), data, retain=False, history=True)
            activity = ACTIVITY_OFF if message.phase == "end" else ACTIVITY_ON
            self._set_retained(sid, self.topics.activity(sid), activity.encode())
            if message.phase == "end":
                last = LastHighlightPayload(
                    id=message.id, stream_id=sid, start=message.start, end=message.end, score=message.score,
                    objects=message.objects, query=message.query, clip=message.clip, wall_time=message.wall_time,
                    summary=highlight_summary(message.objects, message.query),
                )
                self._set_retained(sid, self.topics.last_highlight(sid), last.model_dump_json().encode())

    def _set_retained(self, sid: str, topic: str, data: bytes) -> None:
        """Keep the latest value; send it now when connected and it changed (else the next connect sends it)."""
        if self._retained.get(topic) == data:
            return
        self._retained[topic] = data
        if self._client is not None and self._client.is_connected():
            self._publish(sid, topic, data, retain=True)

    def _publish_retained(self) -> None:
        """On every connect: discovery configs, then the latest retained value of every stream topic."""
        self._publish(DAEMON, self.topics.availability, AVAILABLE.encode(), retain=True)
        if self.cfg.discovery:
            for topic, config in discovery_configs(
                self.topics, self.cfg.node_id, self.stream_ids, self.cfg.discovery_prefix
            ):
                self._publish(DAEMON, topic, json.dumps(config).encode(), retain=True)
        for topic, data in list(self._retained.items()):
            self._publish(topic.split("/")[-2], topic, data, retain=True)

    def _publish(self, sid: str, topic: str, data: bytes, *, retain: bool, history: bool = False) -> None:
        """QoS 1 to paho, which keeps it until acknowledged (also while disconnected).

        `history` messages (event, highlight) past `pending_max` unacknowledged are dropped and
        counted. paho's own bound sits a reserve above, so the retained latest values of a
        connect (availability, discovery, states) still fit when the history backlog is full.
        A retained value that finds even the reserve full (a broker that stalls) is not lost:
        the bridge publishes every retained value again once the backlog has room.
        """
        assert self._client is not None
        import paho.mqtt.client as mqtt

        with self._lock:
            if history and self._kept >= self.cfg.pending_max:
                self.dropped[sid] += 1
                return
        info = self._client.publish(topic, data, qos=1, retain=retain)
        with self._lock:
            if info.rc == mqtt.MQTT_ERR_QUEUE_SIZE and retain:
                self._reassert.set()  # the latest value still goes out, at the next look with room
                self._reassert_after = time.monotonic() + REASSERT_RETRY_S
            elif info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):  # NO_CONN: kept, sent on reconnect
                self.dropped[sid] += 1
            elif info.mid in self._early_acks:
                self._early_acks.discard(info.mid)
            else:
                self._unacked[info.mid] = (sid, history)
                self._kept += history

    def _unacked_count(self) -> int:
        with self._lock:
            return len(self._unacked)

    def _discard_queue(self) -> int:
        left = 0
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return left
            left += 1
            with self._lock:
                self.dropped[item[1].stream_id if item[0] == "msg" else item[1]] += 1

    # -- paho callbacks (its network thread) ----------------------------------------------
    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:  # e.g. "Not authorized": paho retries with backoff; say it once per outage
            self._outage(f"the broker refused the connection: {reason}")
            return
        self.connected = True
        self.connects += 1
        self._outage_logged = False
        self.last_error = None
        self._reassert_after = 0.0
        log.info("mqtt: connected to %s:%d", self.cfg.host, self.cfg.port)
        subscriptions = []
        if self.cfg.discovery:
            subscriptions.append((f"{self.cfg.discovery_prefix}/status", 1))  # Home Assistant's birth message
        if self.cfg.commands:
            subscriptions += [(self.topics.queries_set(sid), 1) for sid in self.stream_ids]
        if subscriptions:
            client.subscribe(subscriptions)
        self._reassert.set()

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reasons: Any, properties: Any) -> None:
        self.subscribed = not any(reason.is_failure for reason in reasons)

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        self._outage(f"cannot reach the broker at {self.cfg.host}:{self.cfg.port}")

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        was = self.connected
        self.connected = False
        self.subscribed = False
        if self._stop.is_set():
            return
        if was:
            self.disconnects += 1
            self._outage(f"lost the broker at {self.cfg.host}:{self.cfg.port} ({reason})")

    def _outage(self, why: str) -> None:
        self.last_error = one_line(redact_text(why))
        if not self._outage_logged:
            self._outage_logged = True
            log.warning(
                "mqtt: %s; retrying every %g-%g s; events and highlights are kept up to %d",
                self.last_error, self.cfg.reconnect_min_s, self.cfg.reconnect_max_s, self.cfg.pending_max,
            )
        else:
            log.debug("mqtt: %s", self.last_error)

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int, reason: Any, properties: Any) -> None:
        with self._lock:
            entry = self._unacked.pop(mid, None)
            if entry is None:
                self._early_acks.add(mid)
            else:
                self._kept -= entry[1]
            self.sent += 1

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        if self.cfg.discovery and msg.topic == f"{self.cfg.discovery_prefix}/status":
            if msg.payload == b"online":
                self._reassert.set()  # Home Assistant restarted: it wants the discovery configs again
            return
        if not msg.payload:  # how a retained command is cleared from the broker: nothing to apply or answer
            return
        for sid in self.stream_ids:
            if msg.topic == self.topics.queries_set(sid):
                reply = self.command(sid, msg.payload, retained=bool(msg.retain))
                self._publish(sid, self.topics.queries_reply(sid), reply.model_dump_json().encode(), retain=False)
                return

    # -- commands ---------------------------------------------------------------------------
    def command(self, stream_id: str, raw: bytes, *, retained: bool = False) -> QueriesReply:
        """Check and apply one `queries/set` payload; never raises for anything a publisher can send."""
        self.commands += 1
        try:
            queries = self._apply_command(stream_id, raw, retained)
        except (ValueError, UserError) as err:
            self.command_errors += 1
            reply = QueriesReply(ok=False, stream_id=stream_id, error=one_line(str(err)) or "rejected")
            log.info("mqtt: rejected a queries command for %s: %s", stream_id, reply.error)
            return reply
        except Exception:
            self.command_errors += 1
            log.exception("mqtt: set_queries failed for %s", stream_id)
            return QueriesReply(ok=False, stream_id=stream_id, error="internal error; see the daemon log")
        return QueriesReply(ok=True, stream_id=stream_id, queries=queries)

    def _apply_command(self, stream_id: str, raw: bytes, retained: bool) -> list[str]:
        if retained:
            raise ValueError("retained commands are ignored: publish queries/set without the retain flag")
        data = json_object(raw, MAX_COMMAND_BYTES, "command", 'command must be a JSON object: {"queries": ["..."]}')
        try:
            command = QueriesCommand.model_validate(data)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "command"
            raise ValueError(f"{where}: {str(first['msg']).removeprefix('Value error, ')}") from None
        assert self._set_queries is not None
        self._set_queries(stream_id, list(command.queries))
        return self._get_queries(stream_id) if self._get_queries is not None else list(command.queries)


def _str(path: Any) -> str | None:
    return None if path is None else str(path)


def _ssl_reason(err: BaseException) -> str:
    reason = getattr(err, "reason", None) or getattr(err, "strerror", None) or type(err).__name__
    return one_line(str(reason), 120)


__all__ = ["MqttBridge", "BRIDGED_KINDS"]
