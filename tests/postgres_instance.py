"""A PostgreSQL server of a test's own, on 127.0.0.1 and a free port, from Debian's binaries (as
deploy/local/servers installs them): initdb, settings, start, stop, kill -9, base backups and
restores — what the backup drill and the standby failover need, which the shared local server
must not be put through. As root, the server runs as the service user deploy/local/servers uses."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

SERVICE_USER = "eldercare-pg"
USER = "eldercare"


def pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed (deploy/local/servers fetch postgres)")
    return found[-1].parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_service_user() -> list[str]:
    if os.getuid() != 0:
        return []
    if subprocess.run(["id", SERVICE_USER], capture_output=True).returncode:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVICE_USER], check=True)
    return ["runuser", "-u", SERVICE_USER, "--"]


def scratch(fallback: Path) -> Path:
    """A directory the server's user can reach: as root, under /opt/eldercare-pg (pytest's temporary
    directories are root's alone); otherwise ``fallback``."""
    if os.getuid() != 0:
        return fallback
    _as_service_user()
    path = Path("/opt/eldercare-pg/scratch") / uuid.uuid4().hex[:12]
    path.mkdir(parents=True)
    os.chmod(path.parent.parent, 0o755)
    os.chmod(path.parent, 0o755)
    return owned(path)


def owned(path: Path) -> Path:
    """``path`` created and owned by the server's user."""
    path.mkdir(parents=True, exist_ok=True)
    if os.getuid() == 0:
        subprocess.run(["chown", "-R", SERVICE_USER, str(path)], check=True)
    return path


class PostgresInstance:
    def __init__(self, root: Path, port: int | None = None) -> None:
        self.root = owned(root)
        self.data = root / "data"
        self.port = port or free_port()
        self.log = root / "postgres.log"

    def run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run([*_as_service_user(), str(pg_bin() / tool), *args], capture_output=True, text=True)
        if check and done.returncode:
            raise RuntimeError(f"{tool} failed: {done.stdout}{done.stderr}")
        return done

    def initdb(self) -> PostgresInstance:
        # Trust on 127.0.0.1 only: a throwaway server of one test. C collation, as the ledger needs.
        self.run("initdb", "-D", str(self.data), "-U", USER, "--auth=trust", "--locale=C", "--encoding=UTF8")
        return self

    def configure(self, **settings: str) -> PostgresInstance:
        """Lines appended to postgresql.conf (later lines win)."""
        with open(self.data / "postgresql.conf", "a") as conf:
            for name, value in settings.items():
                conf.write(f"{name} = '{value}'\n")
        return self

    def start(self) -> PostgresInstance:
        self.configure(listen_addresses="127.0.0.1", port=str(self.port), unix_socket_directories=str(self.root))
        done = self.run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "120", "start", check=False)
        if done.returncode:
            raise RuntimeError(f"PostgreSQL did not start: {self.log.read_text()[-2000:] if self.log.exists() else done.stderr}")
        return self

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop", check=False)

    def crash(self) -> None:
        """kill -9 the postmaster and every backend, as losing the host would."""
        pid_file = self.data / "postmaster.pid"
        if not pid_file.exists():
            return
        pid = int(pid_file.read_text().split()[0])
        children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        for victim in [pid, *map(int, children)]:
            try:
                os.kill(victim, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)

    def sql(self, statement: str, database: str = "postgres") -> str:
        return self.run("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, "-d", database, "-tAc", statement).stdout.strip()

    def url(self, database: str = "eldercare") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def wait_until(self, statement: str, expected: str, timeout_s: float = 120) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            done = self.run("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, "-d", "postgres", "-tAc",
                            statement, check=False)
            if done.returncode == 0 and done.stdout.strip() == expected:
                return
            time.sleep(0.2)
        raise TimeoutError(f"{statement!r} did not become {expected!r}")

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
