"""`web:` of the daemon's config: where the history page listens and the token it asks for."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from vgsum.runtime.common.network import is_local_host
from vgsum.stream.errors import UserError


class WebConfig(BaseModel):
    """The history page. Loopback by default; any other address needs a token (clips show what cameras saw)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(9572, ge=0, le=65535, description="0 picks a free port")
    token: SecretStr | None = Field(
        None, description="required off loopback: `Authorization: Bearer TOKEN`, or `?token=TOKEN` once (a cookie)"
    )

    @field_validator("token", mode="before")
    @classmethod
    def _digits_are_text(cls, value: object) -> object:
        """YAML reads `token: 83920174` as a number; refused, the config error line would print it."""
        return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value

    def check_binding(self) -> None:
        """A UserError of one line when the page would be reachable from the network without a token."""
        if self.token is not None and not self.token.get_secret_value():
            raise UserError("web.token is empty; set a long random string or remove the key")
        if self.token is None and not is_local_host(self.host):
            raise UserError(
                f"web.host {self.host} needs web.token: the history page shows camera clips, so off loopback "
                "every request must carry a token (or keep web.host 127.0.0.1)"
            )
