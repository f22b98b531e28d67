"""`vgsum schema [KIND]`: the JSON Schema of the messages (and of the MQTT bridge's own payloads), from the models."""

from __future__ import annotations

import argparse
import json

from vgsum.runtime.mqtt.topics import PAYLOADS
from vgsum.runtime.mqtt.topics import json_schema as mqtt_schema
from vgsum.stream.errors import UserError
from vgsum.stream.messages import KINDS, json_schema


def main(argv: list[str]) -> int:
    """Print one kind's schema, or the union of all kinds."""
    parser = argparse.ArgumentParser(prog="vgsum schema", description=__doc__.splitlines()[0])
    names = [*KINDS, *PAYLOADS]
    parser.add_argument("kind", nargs="?", help=f"one of: {', '.join(names)} (default: all messages, as one union)")
    args = parser.parse_args(argv)
    if args.kind is not None and args.kind not in names:
        raise UserError(f"unknown message kind {args.kind!r}; one of: {', '.join(names)}")
    schema = mqtt_schema(args.kind) if args.kind in PAYLOADS else json_schema(args.kind)
    print(json.dumps(schema, indent=2))
    return 0
