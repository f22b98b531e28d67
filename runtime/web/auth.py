"""The token rule of the history page: a bearer header, or `?token=` once and then a cookie.

Why a cookie: a browser cannot add an Authorization header to `<video src>`,
`<img src>` or `EventSource`, so the first page load with `?token=` sets an
HttpOnly cookie that every later request (clips included) carries.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from http.cookies import CookieError, SimpleCookie

COOKIE = "vgsum_token"


class TokenGate:
    """Admits every request when no token is set; else only those that carry it."""

    def __init__(self, token: str | None) -> None:
        self._token = token.encode() if token else None
        self._cookie_value = hashlib.sha256(self._token).hexdigest().encode() if self._token else None

    @property
    def required(self) -> bool:
        return self._token is not None

    def admits(self, headers: Mapping[str, str], query: Mapping[str, list[str]]) -> bool:
        """True when the request carries the token in its Authorization header, its query or its cookie."""
        if self._token is None or self._cookie_value is None:
            return True
        tokens = list(query.get("token", []))
        scheme, _, value = (headers.get("Authorization") or "").partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            tokens.append(value.strip())
        if any(hmac.compare_digest(t.encode(), self._token) for t in tokens):
            return True
        cookie = _cookie(headers.get("Cookie"))
        return cookie is not None and hmac.compare_digest(cookie.encode(), self._cookie_value)

    def cookie(self) -> str:
        """The Set-Cookie value that lets the browser's later requests in."""
        assert self._cookie_value is not None
        return f"{COOKIE}={self._cookie_value.decode()}; Path=/; HttpOnly; SameSite=Strict"


def _cookie(raw: str | None) -> str | None:
    if not raw:
        return None
    try:
        morsel = SimpleCookie(raw).get(COOKIE)
    except CookieError:
        return None
    return None if morsel is None else morsel.value
