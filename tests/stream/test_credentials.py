"""Camera credentials: in the URL (raw or percent-encoded) or beside it, encoded once for FFmpeg, never shown.

The config tests need nothing; the RTSP tests run the project's GStreamer server with
basic authentication on, one user per password, and connect to it through the real
ingest path (`VideoSource.open` hands `StreamConfig.ffmpeg_url()` to FFmpeg).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from vgsum.runtime.common.configfile import parse_config
from vgsum.runtime.common.errors import UserError
from vgsum.runtime.daemon.config import EdgeConfig
from vgsum.stream.config import StreamConfig
from vgsum.stream.messages import FrameMessage, StatusMessage
from vgsum.stream.redact import redact_text, secret_forms

CHARS = "/?#@:% "  # what the issue names: each raw in a password must connect


def password_for(index: int, char: str) -> str:
    """Distinctive (it cannot occur by chance in a log line), with `char` twice inside.

    Each `char` is followed by a letter that is not a hex digit, so a raw `%` is a percent sign.
    """
    return f"Pw{char}se{char}cr{index}Q"


ALL = "Pw/?#@:% all%41Q"  # every character at once, and a `%41` that must stay literal from the fields


# ---------------------------------------------------------------- the URL FFmpeg gets


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("rtsp://u:p/ss@h:554/x", "rtsp://u:p%2Fss@h:554/x"),  # the three examples
        ("rtsp://u:p#ss@h:554/x", "rtsp://u:p%23ss@h:554/x"),
        ("rtsp://u:p?ss@h:554/x", "rtsp://u:p%3Fss@h:554/x"),
        ("rtsp://u:p@ss@h/x", "rtsp://u:p%40ss@h/x"),  # the last @ ends the user info
        ("rtsp://u:p:ss@h/x", "rtsp://u:p%3Ass@h/x"),  # the first : ends the user
        ("rtsp://u:p ss@h/x", "rtsp://u:p%20ss@h/x"),
        ("rtsp://u:100%@h/x", "rtsp://u:100%25@h/x"),  # a lone % is a percent sign
        ("rtsp://u:p%zzss@h/x", "rtsp://u:p%25zzss@h/x"),  # % without two hex digits too
        ("rtsp://u:p%2Fss@h/x", "rtsp://u:p%2Fss@h/x"),  # already encoded: kept
        ("rtsp://u:p%2fss@h/x", "rtsp://u:p%2Fss@h/x"),  # (hex case does not matter)
        ("rtsp://u:p/ss%21@h/x", "rtsp://u:p%2Fss%21@h/x"),  # mixed: the escape kept, the rest encoded
        ("rtsp://us%20er:pw@h/x?channel=1", "rtsp://us%20er:pw@h/x?channel=1"),
        ("rtsp://admin@h/x", "rtsp://admin@h/x"),  # a user without a password
        ("rtsp://h:554/x?a=1", "rtsp://h:554/x?a=1"),  # no user info: as written
        ("/videos/a@b.mp4", "/videos/a@b.mp4"),  # files and devices: as written
        ("/dev/video0", "/dev/video0"),
    ],
)
def test_the_url_ffmpeg_gets_has_its_user_info_encoded(url: str, expected: str) -> None:
    cfg = StreamConfig(stream_id="s", url=url)
    assert cfg.ffmpeg_url() == expected
    if "@" in expected and "://" in url:
        assert cfg.safe_url.startswith("rtsp://***@"), cfg.safe_url


def test_raw_and_encoded_passwords_in_the_url_reach_ffmpeg_alike() -> None:
    for char in CHARS:  # (each char is followed by a non-hex letter: a raw `%` there is a percent sign)
        raw = StreamConfig(stream_id="s", url=f"rtsp://u:{password_for(0, char)}@h/x")
        encoded = StreamConfig(stream_id="s", url=f"rtsp://u:{quote(password_for(0, char), safe='')}@h/x")
        assert raw.ffmpeg_url() == encoded.ffmpeg_url() == f"rtsp://u:{quote(password_for(0, char), safe='')}@h/x"


def test_fields_are_taken_literally_and_masked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret_file = tmp_path / "pw"
    secret_file.write_text("Pw%2Ffile Q\nthe second line is not the password\n")
    monkeypatch.setenv("CAM_PW_TEST", "Pw%2Fenv Q")
    sources = {"password": "Pw%2Ffield Q", "password_file": str(secret_file), "password_env": "CAM_PW_TEST"}
    expected = {"password": "Pw%252Ffield%20Q", "password_file": "Pw%252Ffile%20Q", "password_env": "Pw%252Fenv%20Q"}
    for field, value in sources.items():
        cfg = StreamConfig(stream_id="s", url="rtsp://h:554/x", username="ad min", **{field: value})
        assert cfg.ffmpeg_url() == f"rtsp://ad%20min:{expected[field]}@h:554/x"
        assert cfg.safe_url == "rtsp://***@h:554/x"  # credentials from the fields show as ***@ too
        assert "Pw%2F" not in repr(cfg) + cfg.model_dump_json()
    # registered: masked in any text, raw and encoded, with no URL around them
    for password in ("Pw%2Ffield Q", "Pw%2Ffile Q", "Pw%2Fenv Q"):
        text = f"auth failed for {password}; url rtsp://h/x?{quote(password, safe='')} or {quote(password)}"
        shown = redact_text(text)
        for form in secret_forms(password):
            assert form not in shown, (form, shown)
        assert "auth failed for ***" in shown


@pytest.mark.parametrize("content", ["Pw x/1Q\r\nnext", "Pw x/1Q\n", "Pw x/1Q"])
def test_a_password_file_gives_its_first_line_as_written(tmp_path: Path, content: str) -> None:
    """Windows line ends and a missing final newline do not change the password; its spaces are kept."""
    (tmp_path / "pw").write_bytes(content.encode())
    cfg = StreamConfig(stream_id="s", url="rtsp://h/x", username="u", password_file=tmp_path / "pw")
    assert cfg.ffmpeg_url() == "rtsp://u:Pw%20x%2F1Q@h/x"


def test_user_only_in_the_fields() -> None:
    cfg = StreamConfig(stream_id="s", url="rtsps://h/x", username="viewer")
    assert cfg.ffmpeg_url() == "rtsps://viewer@h/x" and cfg.safe_url == "rtsps://***@h/x"


# ---------------------------------------------------------------- bad input: one line, the value never shown


def _error(stream: dict[str, object]) -> str:
    with pytest.raises(UserError) as err:
        parse_config({"streams": [{"stream_id": "cam", **stream}]}, EdgeConfig)
    return str(err.value)


@pytest.mark.parametrize(
    ("stream", "says"),
    [
        (
            {"url": "rtsp://h/x", "username": "u", "password": "Pw/1Q", "password_env": "HOME"},
            "give one of password, password_file, password_env, not password and password_env",
        ),
        (
            {"url": "rtsp://u:Pw/1Q@h/x", "username": "u", "password": "Pw/2Q"},
            "credentials both in url and in username, password",
        ),
        ({"url": "rtsp://u:Pw/1Q@h/x", "password_env": "HOME"}, "credentials both in url and in password_env"),
        ({"url": "rtsp://h/x", "username": "u", "password_file": "/no/pw"}, "password_file '/no/pw': file not found"),
        ({"url": "rtsp://h/x", "username": "u", "password_file": "/"}, "password_file '/': is a directory"),
        ({"url": "rtsp://h/x", "username": "u", "password_env": "VGSUM_NO_SUCH_VAR"}, "VGSUM_NO_SUCH_VAR is not set"),
        ({"url": "rtsp://h/x", "username": "u", "password_env": "1 bad"}, "password_env"),
        ({"url": "rtsp://h/x", "username": "u", "password": 83920174}, "password must be text: quote it"),
        ({"url": "rtsp://h/x", "username": "u", "password": ""}, "password is empty"),
        ({"url": "rtsp://h/x", "password": "Pw/1Q"}, "password needs username"),
        ({"url": "rtsp://h/x", "username": "a:b", "password": "Pw/1Q"}, "username may not contain ':'"),
        ({"url": "/videos/a.mp4", "username": "u", "password": "Pw/1Q"}, "apply only to rtsp://"),
        ({"url": "rtsp://h/x", "username": "u", "passwd": "Pw/1Q"}, "passwd: unknown key"),
    ],
)
def test_bad_credentials_are_one_line_naming_the_field(stream: dict[str, object], says: str) -> None:
    message = _error(stream)
    assert says in message, message
    assert "\n" not in message and message.startswith("config: streams.0")
    for secret in ("Pw/1Q", "Pw/2Q", "83920174"):
        for form in secret_forms(secret):
            assert form not in message, message


def test_empty_password_file_is_one_line(tmp_path: Path) -> None:
    empty = tmp_path / "pw"
    empty.write_text("\nPw/1Q\n")
    message = _error({"url": "rtsp://h/x", "username": "u", "password_file": str(empty)})
    assert "first line is empty" in message and "Pw/1Q" not in message


def test_vgsum_serve_exits_2_with_one_line(tmp_path: Path) -> None:
    config = tmp_path / "edge.yaml"
    config.write_text(
        "mode: ingest\nstreams:\n  - stream_id: gate\n    url: 'rtsp://viewer:Pw/se#cr@t1Q@127.0.0.1:1/x'\n"
        "    password_env: VGSUM_NO_SUCH_VAR\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "VGSUM_NO_SUCH_VAR"}
    proc = subprocess.run(
        [sys.executable, "-m", "vgsum.runtime.cli", "serve", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "credentials both in url and in password_env" in lines[0], proc.stderr
    for form in secret_forms("Pw/se#cr@t1Q"):
        assert form not in proc.stderr + proc.stdout


# ---------------------------------------------------------------- against the real server, authentication on


def _frames(h, sid: str) -> list[FrameMessage]:
    return [m for m in h.of("frame", sid) if isinstance(m, FrameMessage)]


def _last_status(h, sid: str) -> StatusMessage:
    return h.of("status", sid)[-1]


@pytest.fixture
def auth_server(gst_rtsp_available: None, bikes_mp4: Path):
    """The project's RTSP server, one user per password: u0..u6 (one character each of CHARS), all, lit."""
    from vgsum.runtime.bench.rtsp_camera import RtspCamera

    users = [f"u{i}:{password_for(i, c)}" for i, c in enumerate(CHARS)] + [f"all:{ALL}", "lit:Pw%41Q"]
    server = RtspCamera(bikes_mp4, auth=users)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.rtsp
@pytest.mark.slow
def test_reserved_characters_in_passwords_connect_and_never_show(
    auth_server, ingest, fast_stream, caplog, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG)
    base = f"rtsp://127.0.0.1:{auth_server.port}/live"
    at = f"127.0.0.1:{auth_server.port}/live"

    def by_file(name: str, password: str) -> str:
        path = tmp_path / name
        path.write_text(password + "\n")
        return str(path)

    small = {"sample_fps": 2.0, "long_side": 32}
    good: dict[str, dict[str, object]] = {}
    for i, char in enumerate(CHARS):
        password = password_for(i, char)
        good[f"url{i}"] = {"url": f"rtsp://u{i}:{password}@{at}"}  # typed raw in the URL
        # and beside the URL, each field in turn
        field = ("password", "password_file", "password_env")[i % 3]
        monkeypatch.setenv(f"VGSUM_TEST_PW{i}", password)
        value = {
            "password": password,
            "password_file": by_file(f"pw{i}", password),
            "password_env": f"VGSUM_TEST_PW{i}",
        }[field]
        good[f"field{i}"] = {"url": base, "username": f"u{i}", field: value}
    monkeypatch.setenv("VGSUM_TEST_PW_ALL", ALL)
    good["all_password"] = {"url": base, "username": "all", "password": ALL}
    good["all_file"] = {"url": base, "username": "all", "password_file": by_file("all", ALL)}
    good["all_env"] = {"url": base, "username": "all", "password_env": "VGSUM_TEST_PW_ALL"}
    good["all_encoded_url"] = {"url": f"rtsp://all:{quote(ALL, safe='')}@{at}"}  # percent-encoded by the user
    good["lit_password"] = {"url": base, "username": "lit", "password": "Pw%41Q"}  # fields: literal
    good["lit_escaped_url"] = {"url": f"rtsp://lit:Pw%2541Q@{at}"}  # a literal % in a URL, as %25
    bad = {
        "wrong": {"url": base, "username": "all", "password": "Pw/?#wrong Q"},  # 401
        "lit_url": {"url": f"rtsp://lit:Pw%41Q@{at}"},  # in a URL %41 is an escape: PwAQ, not the password
    }
    streams = [fast_stream(sid, **small, **cfg) for sid, cfg in good.items()]
    streams += [fast_stream(sid, **cfg, max_retries=1) for sid, cfg in bad.items()]
    h = ingest(streams)

    def done(_: object) -> bool:
        return all(len(_frames(h, sid)) >= 2 for sid in good) and all("failed" in h.states(sid) for sid in bad)

    assert h.collect(done, timeout_s=60), {sid: h.states(sid) for sid in [*good, *bad]}
    for sid in bad:
        status = _last_status(h, sid)
        assert status.state.value == "failed" and "401" in status.last_error, (sid, status.last_error)
        assert status.frames_decoded == 0
    retries = [r for r in caplog.records if "retry" in r.getMessage() and "(rtsp://***@" in r.getMessage()]
    assert retries, "the failing streams' retries were logged, URLs masked"
    # nothing said anything of any password, raw or encoded
    payloads = [m.model_dump_json() for m in h.messages]
    assert any(f'"url":"rtsp://***@{at}"' in p for p in payloads)
    texts = [*payloads, caplog.text, " ".join(str(r.args) for r in caplog.records)]
    passwords = [password_for(i, c) for i, c in enumerate(CHARS)] + [ALL, "Pw%41Q", "Pw/?#wrong Q"]
    for password in passwords:
        for form in secret_forms(password):
            for text in texts:
                assert form not in text, (form, text[max(0, text.find(form) - 100) :][:250])
