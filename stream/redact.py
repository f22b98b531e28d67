"""Remove credentials from URLs and from any text that may carry one.

Camera URLs often hold `user:pass@` or `?password=...`; FFmpeg error strings
repeat the URL. Everything that reaches a log, a status message or an error
passes through `redact_url` or `redact_text` first.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

MASK = "***"

# Query keys whose values are secrets (case-insensitive, compared without _ and -).
SECRET_KEYS = frozenset(
    {
        "password",
        "passwd",
        "pass",
        "pwd",
        "token",
        "accesstoken",
        "authtoken",
        "auth",
        "key",
        "apikey",
        "secret",
        "signature",
        "sig",
        "credential",
        "credentials",
        "user",
        "username",
        "login",
    }
)

# scheme://userinfo@ anywhere in free text (userinfo may itself contain ':' and '@'-free chars).
_USERINFO_RE = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^/\s@]+)@")
# key=value pairs in free text whose key looks secret.
_QUERY_RE = re.compile(r"(?P<key>[A-Za-z_\-]+)=(?P<value>[^&\s'\"]+)")


def _is_secret_key(key: str) -> bool:
    return key.lower().replace("_", "").replace("-", "") in SECRET_KEYS


def redact_url(url: str) -> str:
    """The URL with user info and secret query values replaced by `***`; non-URLs (paths) unchanged."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_text(url)
    if not parts.scheme or not parts.netloc:
        return redact_text(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, MASK if _is_secret_key(k) else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_text(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Free text (an error message, a log line) with every URL credential and known secret masked.

    `secrets` are extra literal strings to hide (e.g. the password parsed from the
    configured URL, in case a library echoes it without the URL around it).
    """
    out = _USERINFO_RE.sub(lambda m: f"{m.group('scheme')}{MASK}@", text)
    out = _QUERY_RE.sub(lambda m: f"{m.group('key')}={MASK}" if _is_secret_key(m.group("key")) else m.group(0), out)
    for secret in secrets:
        if secret and len(secret) >= 3:
            out = out.replace(secret, MASK)
    return out


def url_secrets(url: str) -> tuple[str, ...]:
    """The literal secret strings a URL carries (user, password, secret query values), for `redact_text`."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ()
    found: list[str] = []
    for part in (parts.password, parts.username):
        if part:
            found += [part, unquote(part)]
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if _is_secret_key(key) and value:
            found.append(value)
    if "@" in parts.netloc:
        found.append(parts.netloc.rsplit("@", 1)[0])  # the raw userinfo as written
    # Longest first, so a password is not half-masked by a shorter user name inside it.
    return tuple(sorted(set(found), key=len, reverse=True))
