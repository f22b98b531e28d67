"""Credentials in URLs and error texts are masked."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vgsum.stream.config import StreamConfig
from vgsum.stream.redact import redact_text, redact_url, url_secrets


def test_userinfo_and_secret_query_masked():
    url = "rtsp://admin:hunter22@10.0.0.5:554/Streaming/101?channel=1&password=topsecret&token=abc123"
    out = redact_url(url)
    assert "hunter22" not in out and "admin" not in out and "topsecret" not in out and "abc123" not in out
    assert out.startswith("rtsp://***@10.0.0.5:554/Streaming/101?")
    assert "channel=1" in out


def test_plain_paths_and_urls_unchanged():
    assert redact_url("/data/video.mp4") == "/data/video.mp4"
    assert redact_url("rtsp://10.0.0.5/live") == "rtsp://10.0.0.5/live"


def test_free_text_with_url_and_known_secrets():
    url = "rtsp://user:p%40ss@cam.local/x"
    text = f"Server returned 401 Unauthorized: '{url}' (user p@ss)"
    out = redact_text(text, url_secrets(url))
    assert "p%40ss" not in out and "p@ss" not in out
    assert "rtsp://***@cam.local/x" in out


def test_stream_config_safe_url():
    cfg = StreamConfig(stream_id="c", url="rtsp://u:secret@h/p")
    assert cfg.safe_url == "rtsp://***@h/p"
    assert "secret" not in cfg.safe_url


# ---------------------------------------------------------------- reserved characters in credentials

RESERVED = ":/?#[]@!$&'()*+,;=% "


def _forms(secret: str) -> set[str]:
    """A secret as written, percent-decoded and percent-encoded (as FFmpeg gets it too): none of them may be shown."""
    from urllib.parse import unquote, unquote_to_bytes

    encoded_for_ffmpeg = quote(unquote_to_bytes(secret), safe="")
    return {secret, unquote(secret), quote(secret, safe=""), quote(unquote(secret), safe=""), encoded_for_ffmpeg}


@pytest.mark.parametrize("char", list(RESERVED))
def test_every_reserved_character_in_the_password_is_masked(char: str) -> None:
    password = f"p4ss{char}secret"
    url = f"rtsp://user:{password}@127.0.0.1:1/x"
    shown = [redact_url(url), redact_text(f"cannot open '{url}': 401", url_secrets(url))]
    for out in shown:
        for form in _forms(password):
            assert form not in out, (char, out)
    assert redact_url(url) == "rtsp://***@127.0.0.1:1/x"


def test_the_issue_examples() -> None:
    for url in (
        "rtsp://user:p4ss/secret@127.0.0.1:1/x",
        "rtsp://user:p4ss#secret@127.0.0.1:1/x",
        "rtsp://user:p4ss?secret@127.0.0.1:1/x",
    ):
        assert redact_url(url) == "rtsp://***@127.0.0.1:1/x"
        assert "secret" not in redact_text(f"error: {url}")


@settings(max_examples=600, deadline=None, derandomize=True, database=None)
@given(
    user=st.text(alphabet=RESERVED + "abcXYZ019", min_size=1, max_size=8),
    password=st.text(alphabet=RESERVED + "abcXYZ019", min_size=1, max_size=12),
    path=st.sampled_from(["", "/", "/live", "/a/b?channel=1", "/x?password=zz&token=tt9"]),
)
def test_generated_credentials_never_survive(user: str, password: str, path: str) -> None:
    password = f"Pw{password}Q"  # long and distinctive enough that it cannot occur by chance in the rest
    user = f"Us{user}"
    url = f"rtsp://{user}:{password}@cam.example:554{path}"
    secrets = url_secrets(url)
    given_to_ffmpeg = StreamConfig(stream_id="g", url=url).ffmpeg_url()
    texts = [
        redact_url(url),
        redact_text(f"Server returned 401 Unauthorized for '{url}'", secrets),
        redact_text(f"cannot open {url}: Connection refused", secrets),
        redact_text(f"Invalid argument: '{given_to_ffmpeg}' returned 22", secrets),
        redact_url(given_to_ffmpeg),
    ]
    for out in texts:
        for form in _forms(password):
            assert form not in out, (url, out)
        assert "=zz" not in out and "=tt9" not in out, out


# ---------------------------------------------------------------- the encoded URL for FFmpeg; passwords beside URLs


@pytest.mark.parametrize("char", list(RESERVED))
def test_the_encoded_url_ffmpeg_may_echo_is_masked(char: str) -> None:
    """FFmpeg's errors repeat the URL it was given: the percent-encoded one, with or without the URL around it."""
    from vgsum.stream.redact import encode_credential

    password = f"p4ss{char}secret"
    cfg = StreamConfig(stream_id="c", url=f"rtsp://user:{password}@127.0.0.1:1/x")
    given = cfg.ffmpeg_url()
    encoded = encode_credential(password)
    assert encoded in given  # what FFmpeg gets
    text = f"Invalid argument: '{given}' returned 22; auth {encoded}; typed {password}"
    out = redact_text(text, url_secrets(cfg.url))
    for form in {*_forms(password), encoded}:
        assert form not in out, (char, out)
    assert "'rtsp://***@127.0.0.1:1/x'" in out


def test_registered_passwords_are_masked_anywhere_in_every_form() -> None:
    from vgsum.stream.redact import register_secret, registered_secrets

    password = "Reg/is#te red%41Q"
    encoded = quote(password, safe="")
    text = f"digest for {password} failed; rtsp://u:{encoded}@h/x; bare {encoded} and {quote(password)}"
    assert password in redact_text(text)  # not known yet: only the URL's user info is masked
    register_secret(password)
    assert password in registered_secrets()
    out = redact_text(text)
    for form in _forms(password):
        assert form not in out, out
    assert out.startswith("digest for *** failed; rtsp://***@h/x; bare *** and ***"), out
    register_secret("ab")  # shorter than MIN_SECRET_CHARS: registered, but not masked in free text
    assert redact_text("tab stop") == "tab stop"


def test_field_passwords_are_registered_at_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    password = "Fie/ld#pw 7Q"
    monkeypatch.setenv("VGSUM_TEST_REDACT_PW", password)
    line = f"echo {password} / {quote(password, safe='')}"
    assert password in redact_text(line)
    StreamConfig(stream_id="c", url="rtsp://h/x", username="u", password_env="VGSUM_TEST_REDACT_PW")
    assert redact_text(line) == "echo *** / ***"
