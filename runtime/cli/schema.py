"""`vgsum schema [KIND]`: the JSON Schema of the messages, generated from the pydantic models."""

from __future__ import annotations

import argparse
import json

from vgsum.stream.errors import UserError
from vgsum.stream.messages import KINDS, json_schema


def main(argv: list[str]) -> int:
    """Print one kind's schema, or the union of all kinds."""
    parser = argparse.ArgumentParser(prog="vgsum schema", description=__doc__.splitlines()[0])
    parser.add_argument("kind", nargs="?", help=f"one of: {', '.join(KINDS)} (default: all, as one union schema)")
    args = parser.parse_args(argv)
    if args.kind is not None and args.kind not in KINDS:
        raise UserError(f"unknown message kind {args.kind!r}; one of: {', '.join(KINDS)}")
    print(json.dumps(json_schema(args.kind), indent=2))
    return 0
