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
