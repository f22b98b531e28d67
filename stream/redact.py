"""Remove credentials from URLs and from any text that may carry one.

Camera URLs often hold `user:pass@` or `?password=...`; FFmpeg error strings
repeat the URL. Everything that reaches a log, a status message or an error
passes through `redact_url` or `redact_text` first.

The user info is everything between `://` and the *last* `@` of the URL: camera
passwords are often typed unencoded and may hold `/ ? # @ : %` or spaces, which a
standard URL parser would read as the path, query or fragment and so leave in the
clear. Reading the user info that widely can mask part of a path that holds an
`@` too; showing too little is the safe side of that trade.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

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

_SCHEME_RE = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<rest>.*)$", re.DOTALL)
# scheme://userinfo@ in free text: the user info runs to the last '@' before whitespace.
_USERINFO_RE = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)\S*@")
# key=value pairs in free text whose key looks secret.
_QUERY_RE = re.compile(r"(?P<key>[A-Za-z_\-]+)=(?P<value>[^&\s'\"]+)")
# Literal secrets shorter than this are not replaced in free text: they would mask ordinary words.
MIN_SECRET_CHARS = 3


def _is_secret_key(key: str) -> bool:
    return key.lower().replace("_", "").replace("-", "") in SECRET_KEYS


def split_userinfo(url: str) -> tuple[str, str, str] | None:
    """(`scheme://`, user info, rest after its `@`) of a URL with user info, else None.

    The user info is everything up to the last `@`, the way a person typing a
    password with reserved characters means it.
    """
    match = _SCHEME_RE.match(url)
    if match is None:
        return None
    rest = match.group("rest")
    userinfo, at, after = rest.rpartition("@")
    if not at:
        return None
    return match.group("scheme"), userinfo, after


def _redact_query(rest: str) -> str:
    """`host/path?query#frag` with the values of secret query keys masked."""
    try:
        parts = urlsplit(f"x://{rest}")
    except ValueError:
        return redact_text(rest)
    if not parts.query:
        return rest
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = urlencode([(k, MASK if _is_secret_key(k) else v) for k, v in pairs], safe="*")
    return urlunsplit(("x", parts.netloc, parts.path, query, parts.fragment)).removeprefix("x://")


def redact_url(url: str) -> str:
    """The URL with user info and secret query values replaced by `***`; non-URLs (paths) unchanged."""
    match = _SCHEME_RE.match(url)
    if match is None:
        return redact_text(url)
    split = split_userinfo(url)
    if split is None:
        return match.group("scheme") + _redact_query(match.group("rest"))
    scheme, _userinfo, after = split
    return f"{scheme}{MASK}@{_redact_query(after)}"


def redact_text(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Free text (an error message, a log line) with every URL credential and known secret masked.

    `secrets` are extra literal strings to hide (e.g. the password parsed from the
    configured URL, in case a library echoes it without the URL around it); they
    are replaced first, so a password with a space in it is hidden whole.
    """
    out = text
    for secret in sorted(secrets, key=len, reverse=True):
        if secret and len(secret) >= MIN_SECRET_CHARS:
            out = out.replace(secret, MASK)
    out = _USERINFO_RE.sub(lambda m: f"{m.group('scheme')}{MASK}@", out)
    return _QUERY_RE.sub(lambda m: f"{m.group('key')}={MASK}" if _is_secret_key(m.group("key")) else m.group(0), out)


def url_secrets(url: str) -> tuple[str, ...]:
    """The literal secret strings a URL carries, for `redact_text`.

    The user info, the user and the password, each as written, percent-decoded and
    percent-encoded (a library may echo any of the three), and secret query values.
    """
    found: list[str] = []
    split = split_userinfo(url)
    rest = url
    if split is not None:
        _scheme, userinfo, rest = split
        user, _colon, password = userinfo.partition(":")
        for part in (userinfo, user, password):
            if part:
                found += [part, unquote(part), quote(part, safe=""), quote(unquote(part), safe="")]
    try:
        query = urlsplit(f"x://{rest}").query
    except ValueError:
        query = ""
    for key, value in parse_qsl(query, keep_blank_values=True):
        if _is_secret_key(key) and value:
            found += [value, quote(value, safe="")]
    # Longest first, so a password is not half-masked by a shorter user name inside it.
    return tuple(sorted(set(found), key=len, reverse=True))
