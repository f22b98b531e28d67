"""Remove credentials from URLs and from any text that may carry one.

Camera URLs often hold `user:pass@` or `?password=...`; FFmpeg error strings
repeat the URL. Everything that reaches a log, a status message or an error
passes through `redact_url` or `redact_text` first.

The user info is everything between `://` and the *last* `@` of the URL: camera
passwords are often typed unencoded and may hold `/ ? # @ : %` or spaces, which a
standard URL parser would read as the path, query or fragment and so leave in the
clear. Reading the user info that widely can mask part of a path that holds an
`@` too; showing too little is the safe side of that trade.

Passwords that are not in the URL (`password`, `password_file`, `password_env` of
a stream) are registered here once their config is validated (`register_secret`);
`redact_text` then masks each of them, raw and percent-encoded, wherever it stands
in any text, with or without a URL around it, in every thread of the process. The
registry only grows: a password once configured stays masked. User names are not
registered (a name like `admin` would mask ordinary words); they only ever travel
inside a URL's user info, which is masked whole.
"""

from __future__ import annotations

import re
import threading
from urllib.parse import parse_qsl, quote, unquote, unquote_to_bytes, urlencode, urlsplit, urlunsplit

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

# Passwords configured outside URLs, in every form they may be shown in (see `register_secret`).
# Replaced whole (copy on write) under the lock, so readers need no lock.
_registered: tuple[str, ...] = ()
_register_lock = threading.Lock()


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


def encode_credential(part: str) -> str:
    """A user name or password from a URL's user info, percent-encoded for FFmpeg.

    A `%` followed by two hex digits is an escape the user already wrote (`p%2Fss`
    stays `p%2Fss`); everything else, a lone `%` included, is taken literally and
    encoded (`p/ss` becomes `p%2Fss`, `100%` becomes `100%25`). The escapes are read
    as bytes, so an escaped non-UTF-8 byte reaches the camera unchanged.
    """
    return quote(unquote_to_bytes(part), safe="")


def secret_forms(secret: str) -> set[str]:
    """Every form a secret may be shown in: as written, percent-decoded, and percent-encoded three ways."""
    forms = {secret, unquote(secret), quote(secret, safe=""), quote(secret), quote(unquote(secret), safe="")}
    forms.add(encode_credential(secret))
    return {form for form in forms if form}


def register_secret(secret: str) -> None:
    """Mask `secret` (and its encoded forms) in every later `redact_text`, in any thread.

    For passwords given beside a URL rather than in it: a library may echo them
    without a URL around them, or inside an encoded URL. Forms shorter than
    `MIN_SECRET_CHARS` are not masked in free text (they would mask ordinary words).
    """
    global _registered
    forms = secret_forms(secret)
    with _register_lock:
        if forms.issubset(_registered):
            return
        _registered = tuple(sorted(forms.union(_registered), key=len, reverse=True))


def registered_secrets() -> tuple[str, ...]:
    """The registered secrets, every form, longest first."""
    return _registered


def redact_text(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Free text (an error message, a log line) with every URL credential and known secret masked.

    `secrets` are extra literal strings to hide (e.g. the password parsed from the
    configured URL, in case a library echoes it without the URL around it); they,
    and the registered secrets (`register_secret`), are replaced first, longest
    first, so a password with a space in it is hidden whole.
    """
    out = text
    for secret in sorted({*secrets, *_registered}, key=len, reverse=True):
        if secret and len(secret) >= MIN_SECRET_CHARS:
            out = out.replace(secret, MASK)
    out = _USERINFO_RE.sub(lambda m: f"{m.group('scheme')}{MASK}@", out)
    return _QUERY_RE.sub(lambda m: f"{m.group('key')}={MASK}" if _is_secret_key(m.group("key")) else m.group(0), out)


def url_secrets(url: str) -> tuple[str, ...]:
    """The literal secret strings a URL carries, for `redact_text`.

    The user info, the user and the password, each as written, percent-decoded and
    percent-encoded (a library may echo any of them; `encode_credential` is the form
    FFmpeg is given), and secret query values.
    """
    found: list[str] = []
    split = split_userinfo(url)
    rest = url
    if split is not None:
        _scheme, userinfo, rest = split
        user, _colon, password = userinfo.partition(":")
        for part in (userinfo, user, password):
            if part:
                found += secret_forms(part)
    try:
        query = urlsplit(f"x://{rest}").query
    except ValueError:
        query = ""
    for key, value in parse_qsl(query, keep_blank_values=True):
        if _is_secret_key(key) and value:
            found += [value, quote(value, safe="")]
    # Longest first, so a password is not half-masked by a shorter user name inside it.
    return tuple(sorted(set(found), key=len, reverse=True))
