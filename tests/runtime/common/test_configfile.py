"""YAML configs: a bad key or value is one line naming the file, the key and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, Field

from vgsum.runtime.common.configfile import load_config
from vgsum.runtime.common.errors import UserError


class Inner(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fps: float = Field(2.0, gt=0)


class Outer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = "x"
    inner: Inner = Inner()


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return path


def test_defaults_from_empty_file(tmp_path: Path) -> None:
    assert load_config(_write(tmp_path, ""), Outer) == Outer()


def test_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    path = _write(tmp_path, "inner:\n  fsp: 3\n")
    with pytest.raises(UserError) as err:
        load_config(path, Outer)
    message = str(err.value)
    assert "\n" not in message
    assert str(path) in message and "inner.fsp" in message and "unknown key" in message


def test_bad_value_says_what_is_allowed(tmp_path: Path) -> None:
    with pytest.raises(UserError) as err:
        load_config(_write(tmp_path, "inner:\n  fps: -1\n"), Outer)
    assert "inner.fps" in str(err.value) and "greater than 0" in str(err.value)


def test_broken_yaml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not valid YAML"):
        load_config(_write(tmp_path, "a: [1, 2\n"), Outer)
    with pytest.raises(UserError, match="not found"):
        load_config(tmp_path / "nope.yaml", Outer)
    with pytest.raises(UserError, match="mapping"):
        load_config(_write(tmp_path, "- 1\n- 2\n"), Outer)


class Camera(BaseModel):
    model_config = ConfigDict(extra="forbid")
    port: int = 554


@pytest.mark.parametrize("password", ["p4ss word", "p4ss/se#cr?et", "p4ss@x y:z"])
def test_a_rejected_value_that_is_a_camera_url_never_shows_its_password(tmp_path: Path, password: str) -> None:
    path = _write(tmp_path, f"port: 'rtsp://admin:{password}@cam/1'\n")
    with pytest.raises(UserError) as err:
        load_config(path, Camera)
    message = str(err.value)
    assert "port" in message and "rtsp://***@cam/1" in message
    for part in password.split():
        assert part not in message


def test_a_directory_and_a_file_that_is_not_utf8_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="is a directory") as err:
        load_config(tmp_path, Outer)
    assert "\n" not in str(err.value)
    latin = tmp_path / "latin1.yaml"
    latin.write_bytes("name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(UserError, match="not UTF-8") as err:
        load_config(latin, Outer)
    assert "\n" not in str(err.value) and str(latin) in str(err.value)
