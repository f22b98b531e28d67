"""A bounded buffer of one stream's recent demuxed (still encoded) video packets, for highlight clips.

Why packets and not frames: a highlight is known only after its shot has ended
and its scores are final (tens of seconds later). Keeping the encoded packets of
the last minutes costs about the stream's bitrate, and a clip is then a remux of
those packets (`stream/clips.py`), with no decoding or re-encoding.

Invariants:
- The buffer always starts at a keyframe, so any clip cut from it decodes. Old
  packets leave a whole GOP at a time; a GOP larger than the byte budget empties
  the buffer, which then waits for the next keyframe.
- It holds at most `max_bytes`, and its span (newest pts - oldest pts) exceeds
  `max_seconds` only while the buffer is a single GOP.
- Times are seconds of stream time, `pts * time_base`, the same clock as PyAV's
  `frame.time` for the frames decoded from these packets.

The codec parameters of the stream are copied when the buffer is made (into a
never-written in-memory container), so clips can be written after the source
container is closed (PyAV would crash on a closed container's stream). Call
`reset(new_stream)` after a reconnect: packets of two connections never mix.

Thread-safe: the demux thread calls `add`, a clip writer calls `span`.
"""

from __future__ import annotations

import io
import threading
from collections import deque
from dataclasses import dataclass
from fractions import Fraction
from typing import Any


class StreamTemplate:
    """The codec parameters of a video stream, kept alive apart from its input container."""

    def __init__(self, stream: Any) -> None:
        import av

        if stream.type != "video":
            raise ValueError(f"packet buffers hold video streams, got a {stream.type} stream")
        self._holder = av.open(io.BytesIO(), "w", format="mp4")
        self.stream = self._holder.add_stream_from_template(template=stream)
        self.codec_name: str = stream.codec_context.name
        self.width: int = stream.codec_context.width
        self.height: int = stream.codec_context.height
        self.time_base: Fraction = stream.time_base


@dataclass(frozen=True)
class BufferedPacket:
    """One demuxed packet (never modified) with its times in seconds."""

    packet: Any  # av.Packet
    pts: float
    dts: float
    key: bool
    size: int


@dataclass(frozen=True)
class PacketSpan:
    """The packets of a requested time span, in decode order, starting at a keyframe."""

    packets: list[BufferedPacket]
    template: StreamTemplate
    requested_start: float
    requested_end: float

    @property
    def start(self) -> float:
        """Presentation time of the first frame (the keyframe at or before the requested start)."""
        return self.packets[0].pts


class PacketBuffer:
    """Recent packets of one video stream, bounded by seconds and bytes, always starting at a keyframe."""

    def __init__(self, stream: Any, max_seconds: float = 120.0, max_bytes: int = 64 * 1024 * 1024) -> None:
        if max_seconds <= 0 or max_bytes <= 0:
            raise ValueError("max_seconds and max_bytes must be > 0")
        self.max_seconds = max_seconds
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._packets: deque[BufferedPacket] = deque()
        self._bytes = 0
        self._keys = 0
        self._newest = float("-inf")
        self.template = StreamTemplate(stream)
        self.evicted_packets = 0
        self.skipped_packets = 0  # waiting for a keyframe, or no timestamps
        self.overflows = 0  # a single GOP was larger than max_bytes

    def __len__(self) -> int:
        return len(self._packets)

    @property
    def nbytes(self) -> int:
        """Bytes held."""
        return self._bytes

    @property
    def first_time(self) -> float | None:
        """pts (s) of the oldest packet, a keyframe; None when empty."""
        with self._lock:
            return self._packets[0].pts if self._packets else None

    @property
    def last_time(self) -> float | None:
        """Largest pts (s) held; None when empty."""
        with self._lock:
            return self._newest if self._packets else None

    def reset(self, stream: Any) -> None:
        """Start over for a new connection (new codec parameters, new timestamps)."""
        template = StreamTemplate(stream)
        with self._lock:
            self._clear()
            self.template = template

    def _clear(self) -> None:
        self._packets.clear()
        self._bytes = 0
        self._keys = 0
        self._newest = float("-inf")

    def add(self, packet: Any) -> bool:
        """Keep one demuxed packet of the stream (empty flush packets are ignored). True if kept."""
        if packet.size == 0:
            return False
        ts = packet.pts if packet.pts is not None else packet.dts
        if ts is None or packet.time_base is None:
            self.skipped_packets += 1
            return False
        tb = packet.time_base
        pts = float(ts * tb)
        dts = float(packet.dts * tb) if packet.dts is not None else pts
        item = BufferedPacket(packet, pts, dts, bool(packet.is_keyframe), int(packet.size))
        with self._lock:
            if not self._packets and not item.key:
                self.skipped_packets += 1
                return False
            self._packets.append(item)
            self._bytes += item.size
            self._keys += item.key
            self._newest = max(self._newest, pts)
            self._evict()
            return bool(self._packets)

    def _pop_gop(self) -> None:
        first = self._packets.popleft()
        self._bytes -= first.size
        self._keys -= first.key
        self.evicted_packets += 1
        while self._packets and not self._packets[0].key:
            gone = self._packets.popleft()
            self._bytes -= gone.size
            self.evicted_packets += 1

    def _evict(self) -> None:
        while self._keys >= 2 and (
            self._bytes > self.max_bytes or self._newest - self._packets[0].pts > self.max_seconds
        ):
            self._pop_gop()
        if self._bytes > self.max_bytes:  # one GOP bigger than the budget: start again at the next keyframe
            self.evicted_packets += len(self._packets)
            self.overflows += 1
            self._clear()

    def span(self, start: float, end: float) -> PacketSpan | None:
        """The packets needed to show [start, end): from the last keyframe at or before `start` (or the
        oldest one) to the last packet (decode order) whose pts is before `end`. None if nothing overlaps."""
        if end <= start:
            raise ValueError(f"empty span [{start}, {end})")
        with self._lock:
            packets = list(self._packets)
            template = self.template
        if not packets or end <= packets[0].pts or start > self._newest_of(packets):
            return None
        first = 0
        for i, item in enumerate(packets):
            if item.key and item.pts <= start:
                first = i
            elif item.pts > start and item.key:
                break
        last = max((i for i in range(first, len(packets)) if packets[i].pts < end), default=first)
        return PacketSpan(packets[first : last + 1], template, start, end)

    @staticmethod
    def _newest_of(packets: list[BufferedPacket]) -> float:
        return max(p.pts for p in packets)
