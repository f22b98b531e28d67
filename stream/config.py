"""`StreamConfig`: everything one source needs, with defaults that work for a camera.

Timeouts, backoff and the queue policy are per stream because a LAN camera and a
flaky 4G link want different numbers. Unknown keys are errors (`extra="forbid"`).

Credentials are per stream too: in the URL's user info (everything between `://`
and the last `@`, typed raw or percent-encoded) or beside it in `username` and one
of `password`, `password_file`, `password_env` (taken literally, never decoded).
Either way `ffmpeg_url()` is the one URL that reaches FFmpeg, with the user info
percent-encoded: FFmpeg splits a URL at the first `/ ? #` and would otherwise read
part of a password as the path ("Invalid argument"). A password from the fields is
registered with the redactor (`register_secret`), so it is masked in any text.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, model_validator

from vgsum.stream.redact import encode_credential, redact_url, register_secret, split_userinfo
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


PASSWORD_SOURCES = ("password", "password_file", "password_env")
_ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


def _read_password_file(path: Path) -> str:
    """The first line of `path`, without its line end; ValueError naming the field (never the content)."""
    shown = f"password_file {str(path)!r}"
    try:
        with path.expanduser().open(encoding="utf-8", newline="") as handle:
            first = handle.readline(65_536)
    except FileNotFoundError:
        raise ValueError(f"{shown}: file not found") from None
    except IsADirectoryError:
        raise ValueError(f"{shown}: is a directory, not a file") from None
    except UnicodeDecodeError:
        raise ValueError(f"{shown}: first line is not UTF-8 text") from None
    except OSError as err:
        raise ValueError(f"{shown}: cannot read ({err.strerror})") from None
    password = first.removesuffix("\n").removesuffix("\r")
    if not password:
        raise ValueError(f"{shown}: first line is empty (it must hold the password)")
    return password


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
    username: str | None = Field(
        None, min_length=1, description="the camera's user, beside the URL instead of in it (taken literally)"
    )
    password: SecretStr | None = Field(None, description="the camera's password, taken literally (needs username)")
    password_file: Path | None = Field(
        None, description="a file whose first line is the password (read when the config loads)"
    )
    password_env: str | None = Field(
        None, pattern=_ENV_NAME, description="the name of an environment variable that holds the password"
    )

    # The password from whichever field gave it, resolved once at validation.
    _password: SecretStr | None = PrivateAttr(None)

    @model_validator(mode="before")
    @classmethod
    def _credentials_are_text(cls, data: Any) -> Any:
        """YAML reads `password: 0123` as the number 83: refused, and here, where the error line cannot show it."""
        if isinstance(data, dict):
            for key in ("username", "password"):
                value = data.get(key)
                if value is not None and not isinstance(value, str | SecretStr):
                    raise ValueError(f"{key} must be text: quote it in YAML (it was read as {type(value).__name__})")
        return data

    @model_validator(mode="after")
    def _check(self) -> StreamConfig:
        if (self.width is None) != (self.height is None):
            raise ValueError("set both width and height, or neither (then long_side keeps the aspect)")
        if self.backoff_max_s < self.backoff_initial_s:
            raise ValueError("backoff_max_s must be >= backoff_initial_s")
        self._resolve_credentials()
        return self

    def _resolve_credentials(self) -> None:
        """Check the credential fields and read the password (ValueErrors name the field, never a value)."""
        given = [name for name in PASSWORD_SOURCES if getattr(self, name) is not None]
        if not given and self.username is None:
            return
        if self.kind not in ("rtsp", "network"):
            raise ValueError("username and password apply only to rtsp:// and other network URLs")
        if split_userinfo(self.url) is not None:
            fields = ", ".join(["username"] * (self.username is not None) + given)
            raise ValueError(
                f"credentials both in url and in {fields}: give them in one place "
                "(an @ in the url's path or query must be written %40)"
            )
        if len(given) > 1:
            raise ValueError(f"give one of password, password_file, password_env, not {' and '.join(given)}")
        if self.username is None:
            raise ValueError(f"{given[0]} needs username")
        if ":" in self.username:
            raise ValueError("username may not contain ':' (RTSP and HTTP authentication cannot carry it)")
        if self.password is not None:
            password = self.password.get_secret_value()
            if not password:
                raise ValueError("password is empty: leave it out for a user without a password")
        elif self.password_file is not None:
            password = _read_password_file(self.password_file)
        elif self.password_env is not None:
            password = os.environ.get(self.password_env)
            if password is None:
                raise ValueError(f"password_env: environment variable {self.password_env} is not set")
            if not password:
                raise ValueError(f"password_env: environment variable {self.password_env} is empty")
        else:
            return
        register_secret(password)
        self._password = SecretStr(password)

    def ffmpeg_url(self) -> str:
        """The URL handed to FFmpeg: the credentials in its user info, percent-encoded. Never log it.

        From the fields, user and password are taken literally and encoded whole. From
        the URL (user info up to its last `@`, user and password split at the first
        `:`), a `%` and two hex digits is kept as an escape the user wrote and anything
        else is encoded (`encode_credential`), so `p/ss` and `p%2Fss` both connect.
        Files and devices are returned as written.
        """
        if self.kind not in ("rtsp", "network"):
            return self.url
        split = split_userinfo(self.url)
        if split is not None:
            scheme, userinfo, rest = split
            user, colon, password = userinfo.partition(":")
            encoded = encode_credential(user) + (f":{encode_credential(password)}" if colon else "")
            return f"{scheme}{encoded}@{rest}"
        if self.username is None:
            return self.url
        scheme, _sep, rest = self.url.partition("://")
        encoded = quote(self.username, safe="")
        if self._password is not None:
            encoded += ":" + quote(self._password.get_secret_value(), safe="")
        return f"{scheme}://{encoded}@{rest}"

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
        """The URL as it may appear in logs and messages: credentials masked (`rtsp://***@host/...`).

        Credentials from the fields show as `***@` too, so every URL that logs in looks alike.
        """
        return redact_url(self.ffmpeg_url())

    def output_size(self, src_width: int, src_height: int) -> tuple[int, int]:
        """The RGB size for a source of the given size: explicit, else `long_side` keeping aspect (even sizes)."""
        if self.width is not None and self.height is not None:
            return self.width, self.height
        scale = self.long_side / max(src_width, src_height)
        w = max(2, round(src_width * scale / 2) * 2)
        h = max(2, round(src_height * scale / 2) * 2)
        return w, h
