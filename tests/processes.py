"""Run the real `eldercare` processes (API, relay, projector) as subprocesses in tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
ELDERCARE = [sys.executable, "-m", "services.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log_path = log
        self._log = open(log, "wb")
        self.popen = subprocess.Popen([*ELDERCARE, *args], env=env, cwd=REPO, stdout=self._log, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        """SIGKILL: no cleanup, no flush, as a crash would be."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=30)
        self._log.close()

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)
        self._log.close()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


def run(args: list[str], env: dict[str, str], timeout: float = 300) -> str:
    done = subprocess.run([*ELDERCARE, *args], env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise AssertionError(f"eldercare {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def start_api(env: dict[str, str], tmp: Path) -> tuple[Process, str]:
    port = free_port()
    api = Process(["serve", "--host", "127.0.0.1", "--port", str(port)], env, tmp / f"api-{port}.log")
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return api, base
        except httpx.HTTPError:
            pass
        if api.popen.poll() is not None:
            raise AssertionError(f"API exited:\n{api.output()}")
        time.sleep(0.2)
    api.stop()
    raise AssertionError(f"API did not become healthy:\n{api.output()}")


def wait_until(predicate, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


def environment(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    return env
