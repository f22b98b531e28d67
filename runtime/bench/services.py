"""A real Mosquitto broker and a real PostgreSQL server on this machine, for `vgsum bench fleet`.

The same recipes as the test fixtures (tests/fixtures/mqtt_broker.py, postgres_server.py),
without pytest: a benchmark is run by a user, so a missing binary is one line naming the
apt package (UserError, exit 2), and a server that will not start is one line with the
tail of its log. Both listen on a free port of 127.0.0.1 only and keep everything in a
folder of their own, so nothing of the user's (their own broker or cluster) is touched.

initdb and the server refuse to run as root: as root they run as the `postgres` user
(else `nobody`) through `runuser`, in a folder that user owns.
"""

from __future__ import annotations

import getpass
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from vgsum.runtime.bench.rtsp_camera import free_port
from vgsum.stream.errors import UserError

SUPERUSER = "vgsum"


def mosquitto_binary() -> str | None:
    """Debian puts the broker in /usr/sbin, which a non-root PATH may lack."""
    return shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if os.access(p, os.X_OK)), None
    )


def postgres_bin() -> Path | None:
    """The folder of initdb and pg_ctl (on PATH, else Debian's newest /usr/lib/postgresql/<v>/bin), or None."""
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]), reverse=True)
    preferred = Path("/usr/lib/postgresql/15/bin/initdb")  # the version CI installs, where several are
    if preferred.exists():
        return preferred.parent
    return versions[0].parent if versions else None


def require_services() -> tuple[str, Path]:
    """(mosquitto, PostgreSQL bin folder); a UserError naming what to install when one is missing."""
    import importlib.util

    broker, pg = mosquitto_binary(), postgres_bin()
    missing = [pkg for pkg, ok in (("mosquitto", broker), ("postgresql", pg)) if not ok]
    if missing:
        raise UserError(f"{' and '.join(missing)} not installed: apt-get install {' '.join(missing)}")
    for module, extra in (("psycopg", "postgres"), ("paho.mqtt", "mqtt")):
        if importlib.util.find_spec(module) is None:
            raise UserError(f"{module} is not installed: pip install 'vgsum[{extra}]'")
    assert broker is not None and pg is not None
    return broker, pg


def _wait_port(port: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


@dataclass
class Mosquitto:
    """One broker on 127.0.0.1:`port`, persistent (a restart keeps sessions and their queued QoS-1 messages)."""

    binary: str
    folder: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def log_path(self) -> Path:
        return self.folder / "mosquitto.log"

    def start(self, timeout_s: float = 10.0) -> Mosquitto:
        """Start (again, on the same port and persistence file) and wait until it accepts connections."""
        self.folder.mkdir(parents=True, exist_ok=True)
        conf = self.folder / "mosquitto.conf"
        conf.write_text("\n".join([
            f"user {getpass.getuser()}", f"listener {self.port} 127.0.0.1", "allow_anonymous true",
            "persistence true", f"persistence_location {self.folder}/", "persistence_file mosquitto.db",
            "autosave_interval 1", "max_queued_messages 100000",
            f"log_dest file {self.log_path}", "log_type error", "log_type warning",
        ]) + "\n")
        self.proc = subprocess.Popen([self.binary, "-c", str(conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        if not _wait_port(self.port, timeout_s):
            self.stop()
            raise UserError(f"mosquitto did not listen on port {self.port}: {self._log_tail()}")
        return self

    def stop(self) -> None:
        """SIGTERM (the broker saves its persistence), SIGKILL if it lingers."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def _log_tail(self) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else "(no log)"
        return " ".join(text.strip().splitlines()[-3:])[-300:]


def run_as_prefix() -> list[str]:
    """The prefix that runs a server command as a user initdb accepts (none unless root)."""
    if os.geteuid() != 0:
        return []
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return ["runuser", "-u", name, "--"]
    raise UserError("running as root, and neither a `postgres` nor a `nobody` user exists to run PostgreSQL as")


@dataclass
class Postgres:
    """One throw-away cluster in `folder` on 127.0.0.1:`port`, trust login for `vgsum` from 127.0.0.1 only."""

    bindir: Path
    folder: Path
    port: int = field(default_factory=free_port)

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = 120) -> None:
        result = subprocess.run([*run_as_prefix(), *args], capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            tail = " ".join((result.stderr or result.stdout).strip().splitlines()[-2:])[-300:]
            raise UserError(f"PostgreSQL {Path(args[0]).name} failed: {tail}")

    def init(self) -> Postgres:
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.folder, run_as_prefix()[2])
            os.chmod(self.folder, 0o700)
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8",
                  "--no-sync", "--locale=C")
        return self

    def start(self) -> Postgres:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c max_connections=100"
        self._run(str(self.bindir / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(self.data),
                  "-l", str(self.folder / "server.log"), "-o", options)
        return self

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (`immediate`: as a crash looks to its clients)."""
        self._run(str(self.bindir / "pg_ctl"), "stop", "-w", "-D", str(self.data), "-m", mode)

    def create_database(self, name: str) -> str:
        """CREATE DATABASE `name` (a plain identifier); its URL."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def close(self) -> None:
        """Stop (immediately) if running; the folder goes with it."""
        if (self.data / "postmaster.pid").exists():
            stop = [str(self.bindir / "pg_ctl"), "stop", "-D", str(self.data), "-m", "immediate"]
            subprocess.run([*run_as_prefix(), *stop], capture_output=True, timeout=60)
        shutil.rmtree(self.folder, ignore_errors=True)
