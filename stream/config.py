"""`StreamConfig`: everything one source needs, with defaults that work for a camera.

Timeouts, backoff and the queue policy are per stream because a LAN camera and a
flaky 4G link want different numbers. Unknown keys are errors (`extra="forbid"`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from vgsum.stream.redact import redact_url
from vgsum.stream.sampler import DEFAULT_SAMPLE_FPS

SourceKind = Literal["file", "rtsp", "device", "network"]
QueuePolicy = Literal["drop_oldest", "block"]


def source_kind(url: str) -> SourceKind:
    """What a URL names: a local file, an RTSP camera, a V4L2 device, or another network stream."""
    lowered = url.lower()
    if lowered.startswith(("rtsp://", "rtsps://")):
        return "rtsp"
    if lowered.startswith("/dev/video") or lowered.startswith("v4l2://"):
        return "device"
    if "://" in lowered and not lowered.startswith("file://"):
        return "network"
    return "file"


def local_path(url: str) -> Path | None:
    """The file a URL names (a plain path or `file://`), or None for cameras, devices and network streams."""
    if source_kind(url) != "file":
        return None
    return Path(url.removeprefix("file://"))


class StreamConfig(BaseModel):
    """One source: where it is, how to read it, how to sample it, how to survive its faults."""

    model_config = ConfigDict(extra="forbid")

    stream_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,63}$", description="names the stream in topics")
    url: str = Field(min_length=1, description="file path, rtsp://..., /dev/videoN, or another FFmpeg URL")
    transport: Literal["tcp", "udp"] = "tcp"
    sample_fps: float = Field(DEFAULT_SAMPLE_FPS, gt=0, le=120)
    long_side: int = Field(512, ge=16, le=4096, description="RGB output size when width/height are not set")
    width: int | None = Field(None, ge=16, le=8192)
    height: int | None = Field(None, ge=16, le=8192)
    open_timeout_s: float = Field(10.0, gt=0)
    read_timeout_s: float = Field(5.0, gt=0)
    stall_after_s: float = Field(10.0, gt=0, description="no frame for this long: the stream is stalled")
    backoff_initial_s: float = Field(0.5, gt=0)
    backoff_max_s: float = Field(30.0, gt=0)
    backoff_jitter: float = Field(0.2, ge=0, le=1, description="fraction of each delay drawn at random")
    max_retries: int | None = Field(
        5,
        ge=0,
        description="retries of a live source whose server answered that it will not serve it "
        "(401/403: wrong credentials, 404: wrong path); past them the stream is `failed`, so a wrong "
        "password neither hammers the camera nor trips its lockout. None retries forever. Disconnects, "
        "timeouts and unreachable hosts are always retried; a file that is missing or not a video "
        "fails at once.",
    )
    realtime: bool = Field(False, description="pace a file at its native speed, as if it were a camera")
    loop: bool = Field(False, description="restart a file at its end (a new epoch each time)")
    live: bool | None = Field(None, description="default: True for rtsp/devices/network, False for files")
    queue_size: int = Field(8, ge=1, le=10_000)
    queue_policy: QueuePolicy | None = Field(None, description="default: drop_oldest when live, block for files")
    decode_threads: int = Field(0, ge=0, le=64, description="0 lets FFmpeg choose")
    skip_unreferenced: bool = Field(
        True,
        description="do not decode frames that no other frame references (B-frames) when sampling at most a "
        "tenth of the source's frames: about a third less decode time on H.264 files, samples off by a frame or two",
    )
    clips_dir: str | None = Field(
        None, description="write each highlight as an MP4 here (packets remuxed, not re-encoded)"
    )
    clip_buffer_s: float = Field(120.0, gt=0, le=3600, description="seconds of packets kept for clips")
    queries: list[str] = Field(
        default_factory=list, description="free-text queries that raise matching moments (changeable at run time)"
    )

    @model_validator(mode="after")
    def _check(self) -> StreamConfig:
        if (self.width is None) != (self.height is None):
            raise ValueError("set both width and height, or neither (then long_side keeps the aspect)")
        if self.backoff_max_s < self.backoff_initial_s:
            raise ValueError("backoff_max_s must be >= backoff_initial_s")
        return self

    @property
    def kind(self) -> SourceKind:
        """Which reader opens this URL."""
        return source_kind(self.url)

    @property
    def is_live(self) -> bool:
        """Live sources reconnect after faults and drop the oldest frames when behind; files do neither."""
        return self.live if self.live is not None else self.kind != "file"

    @property
    def policy(self) -> QueuePolicy:
        """The queue policy in force: the configured one, else by liveness (a paced file counts as live)."""
        if self.queue_policy is not None:
            return self.queue_policy
        return "drop_oldest" if self.is_live or self.realtime else "block"

    @property
    def safe_url(self) -> str:
        """The URL as it may appear in logs and messages: credentials masked."""
        return redact_url(self.url)

    def output_size(self, src_width: int, src_height: int) -> tuple[int, int]:
        """The RGB size for a source of the given size: explicit, else `long_side` keeping aspect (even sizes)."""
        if self.width is not None and self.height is not None:
            return self.width, self.height
        scale = self.long_side / max(src_width, src_height)
        w = max(2, round(src_width * scale / 2) * 2)
        h = max(2, round(src_height * scale / 2) * 2)
        return w, h
