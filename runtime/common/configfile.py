"""Read a YAML file into a pydantic model, with errors a person can act on.

A bad key or value becomes one line naming the file, the key and what is allowed,
instead of pydantic's multi-line report.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from vgsum.runtime.common.errors import UserError
from vgsum.stream.redact import redact_text, redact_url

ModelT = TypeVar("ModelT", bound=BaseModel)


def describe_validation_error(
    err: ValidationError, where: str | None, key_names: Mapping[str, str] | None = None
) -> str:
    """The first problem of a pydantic error as `where: key.path: message (got value)`.

    `key_names` shows a key path under another name: a config built from command-line
    options names the option the user typed, not the config key.
    """
    first = err.errors()[0]
    key = ".".join(str(part) for part in first["loc"]) or "(top level)"
    key = (key_names or {}).get(key, key)
    message = "unknown key" if first["type"] == "extra_forbidden" else str(first["msg"]).removeprefix("Value error, ")
    got = first.get("input")
    # a whole section (a model validator's input) is no help on one line and may hold a camera URL;
    # a scalar is shown with any credential masked before it is cut short
    quiet = first["type"] in ("extra_forbidden", "missing") or isinstance(got, dict | list)
    if isinstance(got, str):
        got = redact_url(got)  # read as a URL first: its user info may hold spaces, where free text stops
    shown = "" if quiet else f" (got {redact_text(repr(got))[:60]})"
    more = len(err.errors()) - 1
    tail = f" [+{more} more]" if more else ""
    line = f"{key}: {message}{shown}{tail}"
    return line if where is None else f"{where}: {line}"


def parse_config(
    data: object, model: type[ModelT], where: str | None = "config", key_names: Mapping[str, str] | None = None
) -> ModelT:
    """Validate already-loaded data; raise UserError with a one-line description (see `describe_validation_error`)."""
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as err:
        raise UserError(describe_validation_error(err, where, key_names)) from None


def load_config(path: str | Path, model: type[ModelT]) -> ModelT:
    """Load YAML from `path` into `model`; every failure is a UserError of one line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: config file not found") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory, not a config file") from None
    except UnicodeDecodeError as err:
        raise UserError(f"{path}: config is not UTF-8 text (byte {err.start})") from None
    except OSError as err:
        raise UserError(f"{path}: cannot read config ({err.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark is not None else ""
        raise UserError(f"{path}:{line} not valid YAML ({getattr(err, 'problem', err)})") from None
    if data is not None and not isinstance(data, dict):
        raise UserError(f"{path}: top level must be a mapping of keys, got {type(data).__name__}")
    return parse_config(data, model, where=str(path))
