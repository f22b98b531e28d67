"""The one `vgsum` console script.

Each subcommand lives in its own module with a `main(argv) -> int`; this file only
maps names to modules so that `vgsum --help` stays instant and no subcommand pays
for another's imports (torch, onnxruntime, PyAV are all loaded lazily).
"""

from __future__ import annotations

import importlib
import logging
import sys

# name -> (module, one-line help). Modules are imported only when their command runs.
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("vgsum.runtime.cli.run", "summarize one source (file or live URL), print highlights, write a report"),
    "demo": ("vgsum.runtime.cli.demo", "run the product on the bundled sample video"),
    "serve": ("vgsum.runtime.cli.serve", "the daemon: all configured streams, control socket, metrics"),
    "subscribe": ("vgsum.runtime.cli.subscribe", "print messages from a publisher and report sequence gaps"),
    "ctl": ("vgsum.runtime.cli.ctl", "send one request to a daemon's control socket"),
    "highlights": ("vgsum.runtime.cli.highlights", "list stored highlights (by stream, time, query, object)"),
    "recap": ("vgsum.runtime.cli.recap", "a short video of the stored history within a time budget (by query, object)"),
    "collect": ("vgsum.runtime.cli.collect", "subscribe to several daemons and keep their history in one store"),
    "schema": ("vgsum.runtime.cli.schema", "print the JSON Schema of each message kind"),
    "export": ("vgsum.export.cli", "build the perception, text and refiner engines (ONNX, TensorRT)"),
    "train": ("vgsum.models.train.cli", "train VideoGraph (benchmark features or your own videos)"),
    "eval": ("vgsum.models.eval.cli", "the benchmark comparison table on TVSum"),
    "bench": ("vgsum.runtime.cli.bench", "benchmarks: ingest, perception, pipeline"),
}


def _usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = ["usage: vgsum COMMAND [ARGS]...", "", "commands:"]
    lines += [f"  {name:<{width}}  {text}" for name, (_, text) in COMMANDS.items()]
    lines += ["", "Run `vgsum COMMAND --help` for a command's options."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Dispatch to a subcommand; user errors end as one line on stderr and exit code 2."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(_usage())
        return 0 if args else 2
    if args[0] == "--version":
        from importlib.metadata import version

        print(f"vgsum {version('vgsum')}")
        return 0
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"vgsum: unknown command {name!r}; one of: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from vgsum.runtime.common.errors import UserError

    try:
        module = importlib.import_module(COMMANDS[name][0])
        return int(module.main(rest) or 0)
    except UserError as err:
        print(f"vgsum {name}: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
