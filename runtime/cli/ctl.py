"""`vgsum ctl ENDPOINT REQUEST_JSON`: send one request to a daemon's control socket and print the reply.

Why a timeout on everything: an operator typing a command against a daemon that
is down must get one line back, not a hung terminal; the REQ socket has linger 0
so closing it never waits for the unsent request either.

Exit status: 0 when the daemon answered `ok`, 1 when it answered an error, 2 for
a user error (bad JSON, unreachable daemon, bad key files).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from vgsum.runtime.common.errors import UserError

EXAMPLES = """examples:
  vgsum ctl tcp://127.0.0.1:5571 '{"op": "list_streams"}'
  vgsum ctl tcp://127.0.0.1:5571 '{"op": "status", "stream_id": "cam1"}'
  vgsum ctl tcp://127.0.0.1:5571 '{"op": "set_queries", "stream_id": "cam1", "queries": ["person"]}'
  vgsum ctl tcp://127.0.0.1:5571 '{"op": "recap_now"}'   # the daily recap of the last 24 h, now
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vgsum ctl",
        description="Send one JSON request to a vgsum daemon's control socket and print its reply.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("endpoint", help="control socket, e.g. tcp://127.0.0.1:5571")
    parser.add_argument("request", help="the request as JSON, e.g. '{\"op\": \"status\"}'")
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for the reply (default 5)")
    parser.add_argument(
        "--curve-server-key", type=Path, metavar="FILE", help="the daemon's public certificate (server.key)"
    )
    parser.add_argument(
        "--curve-client-keys",
        type=Path,
        metavar="PATH",
        help="this client's secret certificate (*.key_secret), or a directory holding exactly one",
    )
    return parser


def _client_secret_file(path: Path) -> Path:
    if path.is_dir():
        found = sorted(path.glob("*.key_secret"))
        if len(found) != 1:
            raise UserError(f"--curve-client-keys: {path} must hold exactly one *.key_secret file, found {len(found)}")
        return found[0]
    return path


def request(
    endpoint: str,
    payload: bytes,
    timeout: float = 5.0,
    curve_server_key: Path | None = None,
    curve_client_keys: Path | None = None,
) -> dict:
    """Send `payload` to the REP socket at `endpoint`; the decoded reply, or UserError after `timeout` s."""
    import zmq

    from vgsum.runtime.daemon.curve import CurveClientKeys, configure_curve_client

    if (curve_server_key is None) != (curve_client_keys is None):
        raise UserError("--curve-server-key and --curve-client-keys go together")
    context = zmq.Context()
    sock = context.socket(zmq.REQ)
    try:
        sock.linger = 0
        if curve_server_key is not None and curve_client_keys is not None:
            configure_curve_client(sock, CurveClientKeys(curve_server_key, _client_secret_file(curve_client_keys)))
        try:
            sock.connect(endpoint)
        except zmq.ZMQError as err:
            raise UserError(f"cannot connect to {endpoint}: {err}") from None
        timeout_ms = max(1, int(timeout * 1000))
        if not sock.poll(timeout_ms, zmq.POLLOUT):
            raise UserError(f"no reply from {endpoint} within {timeout:g} s (is the daemon running?)")
        sock.send(payload, zmq.NOBLOCK)
        if not sock.poll(timeout_ms, zmq.POLLIN):
            raise UserError(f"no reply from {endpoint} within {timeout:g} s (is the daemon running?)")
        raw = sock.recv()
    finally:
        sock.close(0)
        context.term()
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise UserError(f"{endpoint} answered something that is not a JSON reply") from None


def main(argv: list[str]) -> int:
    """Parse the arguments, send the request, print the reply as indented JSON."""
    args = _parser().parse_args(argv)
    if args.timeout <= 0:
        raise UserError("--timeout must be > 0")
    try:
        json.loads(args.request)
    except json.JSONDecodeError as err:
        raise UserError(f"REQUEST_JSON is not JSON: {err.msg} at column {err.colno}") from None
    except RecursionError:
        raise UserError("REQUEST_JSON nests too deeply") from None
    try:
        payload = args.request.encode("utf-8")
    except UnicodeEncodeError:
        # argv that was not valid UTF-8 reaches Python as lone surrogates
        raise UserError("REQUEST_JSON is not valid UTF-8") from None
    reply = request(args.endpoint, payload, args.timeout, args.curve_server_key, args.curve_client_keys)
    print(json.dumps(reply, indent=2, ensure_ascii=False))
    if not reply.get("ok"):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
