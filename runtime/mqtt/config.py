"""`MqttConfig`: the `mqtt:` section of a daemon's config (off by default).

Why credentials only by reference: a config file is copied, committed and pasted
into issues far more often than a secrets file, so a plain `password:` is refused
with one line saying where the password goes instead (`password_file` or
`password_env`). Nothing here holds the password itself: it is read when the
bridge starts (`read_password`) and handed to the MQTT client only.

Files named by the section (the password file, TLS CA, certificate and key) must
exist when the config loads, so a typo stops `vgsum serve` before it starts
(one line, exit 2) instead of surfacing as a broker that never connects.
"""

from __future__ import annotations

import ipaddress
import os
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from vgsum.runtime.common.errors import UserError
from vgsum.stream.redact import redact_text

_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_TOPIC_LEVEL = re.compile(r"^[A-Za-z0-9_\-.]+$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def host_problem(host: str) -> str | None:
    """Why `host` is not a host name or an IP address (a URL, a port, user info), or None when it is one."""
    if "@" in host:
        return "it holds '@': write the host alone; credentials go in username and password_file/password_env"
    if "://" in host:
        return "write the host name alone, not a URL (port: and tls: are their own keys)"
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    name = host[:-1] if host.endswith(".") else host
    if not name or len(name) > 253:
        return "empty, or longer than 253 characters"
    if ":" in name:
        return "write the host alone; the port goes in port:"
    if not all(_HOST_LABEL.match(label) for label in name.split(".")):
        return "not a host name or an IP address"
    return None


def _existing_file(path: Path | None) -> Path | None:
    """The path with `~` expanded; a ValueError when it is not a file (the key and the path are in the error)."""
    if path is None:
        return None
    path = path.expanduser()
    if not path.is_file():
        raise ValueError("no such file" if not path.exists() else "not a file")
    return path


class MqttTlsConfig(BaseModel):
    """TLS to the broker; `tls: {}` uses the system's CAs. A client certificate needs its key."""

    model_config = ConfigDict(extra="forbid")

    ca_file: Path | None = Field(None, description="CA bundle (PEM) that signed the broker; default: the system's")
    cert_file: Path | None = Field(None, description="client certificate (PEM), for brokers that require one")
    key_file: Path | None = Field(None, description="the client certificate's private key (PEM, not encrypted)")

    @field_validator("ca_file", "cert_file", "key_file")
    @classmethod
    def _exists(cls, path: Path | None) -> Path | None:
        return _existing_file(path)

    @model_validator(mode="after")
    def _pair(self) -> MqttTlsConfig:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("tls: cert_file and key_file go together")
        return self


class MqttConfig(BaseModel):
    """The MQTT bridge: events, highlights, stream states and thumbnails to a broker, Home Assistant discovery."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(1883, ge=1, le=65535, description="1883 plain, usually 8883 with tls")
    username: str | None = Field(None, min_length=1, max_length=256)
    password_file: Path | None = Field(None, description="a file holding only the password (one line)")
    password_env: str | None = Field(None, description="the name of an environment variable holding the password")
    tls: MqttTlsConfig | None = Field(None, description="present: TLS on (`tls: {}` for the system's CAs)")
    client_id: str | None = Field(
        None, min_length=1, max_length=64, description="default: <node>-<random>, new each start (clean session)"
    )
    topic_prefix: str = Field(
        "vgsum", description="first topic levels; daemons sharing a broker need different ones (vgsum/garage)"
    )
    keepalive_s: int = Field(30, ge=5, le=3600, description="the broker declares the daemon offline after 1.5x this")
    queue_size: int = Field(1000, ge=16, le=100_000, description="messages waiting for the bridge thread; then drops")
    pending_max: int = Field(
        1000, ge=1, le=100_000, description="QoS 1 messages kept unacknowledged (broker away or slow); then drops"
    )
    reconnect_min_s: float = Field(1.0, gt=0, le=60, description="first wait before reconnecting; doubles per failure")
    reconnect_max_s: float = Field(30.0, gt=0, le=3600, description="the longest wait between reconnects")
    discovery: bool = Field(True, description="publish Home Assistant discovery configs (retained)")
    discovery_prefix: str = Field("homeassistant", description="Home Assistant's discovery prefix")
    commands: bool = Field(
        False, description="accept set_queries on <prefix>/<stream>/queries/set (from anyone the broker lets publish)"
    )

    @model_validator(mode="before")
    @classmethod
    def _no_plain_password(cls, data: Any) -> Any:
        """A plain password is refused without echoing it (the input of a before-validator is never shown)."""
        if isinstance(data, dict) and "password" in data:
            raise ValueError(
                "password: a password in plain text is refused; put it in a file (password_file) "
                "or an environment variable (password_env)"
            )
        if isinstance(data, dict) and isinstance(data.get("host"), str):
            problem = host_problem(data["host"])
            if problem is not None:
                shown = "" if "@" in data["host"] else f" {redact_text(data['host'])[:60]!r}"
                raise ValueError(f"host{shown}: {problem}")
        return data

    @field_validator("password_file")
    @classmethod
    def _password_file(cls, path: Path | None) -> Path | None:
        return _existing_file(path)

    @field_validator("password_env")
    @classmethod
    def _env_name(cls, name: str | None) -> str | None:
        if name is not None and not _ENV_NAME.match(name):
            raise ValueError("password_env must name an environment variable (letters, digits, _)")
        return name

    @field_validator("topic_prefix", "discovery_prefix")
    @classmethod
    def _topic(cls, prefix: str) -> str:
        """Plain levels only: wildcards, `$` topics and empty levels would subscribe to or shadow other topics."""
        levels = prefix.split("/")
        if not all(_TOPIC_LEVEL.match(level) for level in levels):
            raise ValueError("topic levels are letters, digits, _ - . separated by single /, no wildcards")
        return prefix

    @model_validator(mode="after")
    def _credentials(self) -> MqttConfig:
        if self.password_file is not None and self.password_env is not None:
            raise ValueError("password_file and password_env: give one of them")
        if (self.password_file is not None or self.password_env is not None) and self.username is None:
            raise ValueError("a password needs a username")
        if self.reconnect_max_s < self.reconnect_min_s:
            raise ValueError("reconnect_max_s must be at least reconnect_min_s")
        return self

    @property
    def node_id(self) -> str:
        """This daemon's name in Home Assistant ids and discovery topics: the topic prefix with `/` as `_`."""
        return re.sub(r"[^A-Za-z0-9_-]", "_", self.topic_prefix)

    def read_password(self) -> str | None:
        """The password from its file or variable, read at start; UserError (naming the source, never the secret)."""
        if self.password_file is not None:
            try:
                text = self.password_file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as err:
                why = err.strerror if isinstance(err, OSError) and err.strerror else type(err).__name__
                raise UserError(f"mqtt.password_file {self.password_file}: cannot read it ({why})") from None
            password = text.rstrip("\r\n")
            if not password:
                raise UserError(f"mqtt.password_file {self.password_file} is empty")
            return password
        if self.password_env is not None:
            password = os.environ.get(self.password_env)
            if not password:
                raise UserError(f"mqtt.password_env: the environment variable {self.password_env} is not set or empty")
            return password
        return None
