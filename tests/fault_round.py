"""One round of fault injection on the real servers, shared by tests/integration/test_faults.py
(one round) and bench/faults.py (several, printing figures).

A client records decisions over HTTP all through the round (each with its own Idempotency-Key,
retried with the same key after any connection error or 503, as a department's system would). Meanwhile, at random
moments and in random order, the API, the relay, the projector, the Kafka broker and the
Elasticsearch node are each killed with SIGKILL; a supervisor (as systemd or Kubernetes would)
restarts the processes, the servers are started again. When the client is done and everything is
back, the round waits for the index to catch up and reconciles store, Kafka and index.
"""

from __future__ import annotations

import json
import random
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import httpx

from services.api.examples import DISCOVERY_EXAMPLE
from services.bootstrap import build_search_index
from services.ledger.sealed_log import SealedLog
from services.settings import Settings
from tests.processes import ELDERCARE, REPO, Process, free_port

SERVERS = REPO / "deploy" / "local" / "servers"
COMPONENTS = ["api", "relay", "projector", "kafka", "elasticsearch", "postgres"]
HANDLING_DEADLINE = (date.today() + timedelta(days=365)).isoformat()


@dataclass
class RoundResult:
    decisions: int = 0
    acknowledged: dict[str, str] = field(default_factory=dict)  # idempotency key -> institution id
    ack_times: list[float] = field(default_factory=list)  # time.monotonic() of each acknowledgement
    retries: int = 0
    server_errors: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    faults: list[tuple[float, str]] = field(default_factory=list)
    restarts: int = 0
    converged_s: float = 0.0
    reconciliation: dict = field(default_factory=dict)
    in_ledger: dict[str, int] = field(default_factory=dict)  # institution name -> times recorded
    lookups: dict[int, int] = field(default_factory=dict)  # status -> how many lookups got it (connection errors: 0)
    lookup_server_errors: list[str] = field(default_factory=list)  # a 5xx other than 503


class Supervisor:
    """Keeps the API, relay and projector running: restarts any that exited (after a crash or a
    kill), with a short back-off."""

    def __init__(self, env: dict[str, str], logs: Path, port: int) -> None:
        self.env, self.logs, self.port = env, logs, port
        self.commands = {"api": ["serve", "--host", "127.0.0.1", "--port", str(port)], "relay": ["relay"], "projector": ["project"]}
        self.processes: dict[str, Process] = {}
        self.restarts = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def start(self) -> None:
        for name in self.commands:
            self._start(name)
        self._thread.start()

    def _start(self, name: str) -> None:
        n = sum(1 for p in self.logs.glob(f"{name}-*.log"))
        self.processes[name] = Process(self.commands[name], self.env, self.logs / f"{name}-{n}.log")

    def _watch(self) -> None:
        while not self._stop.wait(1.0):
            with self._lock:
                for name, process in list(self.processes.items()):
                    if process.popen.poll() is not None:
                        process.stop()
                        self._start(name)
                        self.restarts += 1

    def kill(self, name: str) -> None:
        with self._lock:
            self.processes[name].kill()

    def repoint(self, env: dict[str, str]) -> None:
        """Restart every process with new settings (the event store moved to a promoted standby)."""
        with self._lock:
            self.env = env
            for name, process in self.processes.items():
                process.kill()
                self._start(name)
                self.restarts += 1

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for process in self.processes.values():
            process.stop()


def decision_name(label: str, n: int) -> str:
    """The institution the ``n``-th decision of a round discovers (its idempotency key ends in ``n``)."""
    return f"故障演练{label}托老所{n:05d}"


def record_decisions(base: str, token: str, label: str, result: RoundResult, stop: threading.Event, pace_s: float) -> None:
    """Record decisions one after another until ``stop`` is set, each retried with its own key
    until it is acknowledged (or refused for good)."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, timeout=30) as http:
        n = 0
        while not stop.is_set():
            key, name = f"fault-{label}-{n:05d}", decision_name(label, n)
            # a handling deadline still to come: the scheduler records nothing of its own during the round
            body = dict(DISCOVERY_EXAMPLE, name=name, handling=dict(DISCOVERY_EXAMPLE["handling"], deadline=HANDLING_DEADLINE))
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                try:
                    response = http.post("/v1/institutions", json=body, headers=headers | {"Idempotency-Key": key})
                except httpx.HTTPError:
                    result.retries += 1
                    time.sleep(0.3)
                    continue
                if response.status_code in (200, 201):
                    result.acknowledged[key] = response.json()["institution_id"]
                    result.ack_times.append(time.monotonic())
                    break
                if response.status_code in (429, 502, 503, 504):  # told to wait, or a part is restarting
                    result.retries += 1
                    time.sleep(float(response.headers.get("Retry-After", "0.3")))
                    continue
                (result.server_errors if response.status_code >= 500 else result.refused).append(f"{response.status_code} {response.text[:200]}")
                break
            result.decisions += 1
            n += 1
            time.sleep(pace_s)


def look_up(base: str, token: str, result: RoundResult, stop: threading.Event, pace_s: float) -> None:
    """Search, read an acknowledged institution and its timeline, over and over, counting what
    comes back: during faults a 503 is an honest answer, any other 5xx is a defect."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, timeout=30, headers=headers) as http:
        n = 0
        while not stop.is_set():
            known = list(result.acknowledged.values())
            paths = ["/v1/search?q=故障演练"]
            if known:
                paths += [f"/v1/institutions/{known[n % len(known)]}", f"/v1/institutions/{known[n % len(known)]}/timeline"]
            path = paths[n % len(paths)]
            try:
                status = http.get(path).status_code
            except httpx.HTTPError:
                status = 0
            result.lookups[status] = result.lookups.get(status, 0) + 1
            if status >= 500 and status != 503:
                result.lookup_server_errors.append(f"{status} {path}")
            n += 1
            time.sleep(pace_s)


def servers(action: str, name: str, timeout: float = 300) -> str:
    """deploy/local/servers <action> <name>: its output."""
    return subprocess.run([str(SERVERS), action, name], check=True, capture_output=True, text=True, timeout=timeout).stdout


def index_position(env: dict[str, str]) -> int | None:
    try:
        index = build_search_index(Settings.from_env(env))
    except Exception:  # noqa: BLE001  (Elasticsearch still starting)
        return None
    try:
        return index.position()["seq"]
    except Exception:  # noqa: BLE001
        return None
    finally:
        index.close()


def run_round(env: dict[str, str], token: str, logs: Path, rng: random.Random, *, pace_s: float = 0.1, label: str = "r") -> RoundResult:
    result = RoundResult()
    logs.mkdir(parents=True, exist_ok=True)
    supervisor = Supervisor(env, logs, free_port())
    base = f"http://127.0.0.1:{supervisor.port}"
    supervisor.start()
    started = time.monotonic()
    try:
        _wait(lambda: healthy(base), 90, "the API")
        stop_writing = threading.Event()
        writer = threading.Thread(target=record_decisions, args=(base, token, label, result, stop_writing, pace_s))
        reader = threading.Thread(target=look_up, args=(base, token, result, stop_writing, pace_s))
        writer.start()
        reader.start()
        for component in rng.sample(COMPONENTS, len(COMPONENTS)):
            time.sleep(rng.uniform(0.5, 3.0))
            result.faults.append((round(time.monotonic() - started, 1), component))
            if component in ("kafka", "elasticsearch", "postgres"):
                servers("crash", component)
                time.sleep(rng.uniform(0.0, 2.0))
                servers("start", component)
            else:
                supervisor.kill(component)
        time.sleep(rng.uniform(1.0, 3.0))  # decisions keep coming while everything recovers
        stop_writing.set()
        writer.join(timeout=660)
        reader.join(timeout=60)
        last_fault = time.monotonic()
        head = _sealed_head(Settings.from_env(env))
        _wait(lambda: index_position(env) == head, 300, f"the index to reach seq {head}")
        result.converged_s = round(time.monotonic() - last_fault, 1)
    finally:
        supervisor.stop()
        result.restarts = supervisor.restarts
    account(env, result)
    return result


def account(env: dict[str, str], result: RoundResult) -> None:
    """After a round: store, Kafka and index reconciled, and each institution the ledger discovered
    counted (every acknowledged decision must be there once)."""
    done = subprocess.run([*ELDERCARE, "audit", "reconcile"], env=env, cwd=REPO, capture_output=True, text=True, timeout=600)
    result.reconciliation = json.loads(done.stdout)
    log = SealedLog(env["ELDERCARE_EVENT_STORE_URL"])
    for envelope in log.iterate_types(("InstitutionDiscovered",)):
        name = envelope["payload"]["name"]
        result.in_ledger[name] = result.in_ledger.get(name, 0) + 1
    log.close()


def _sealed_head(settings: Settings) -> int:
    from services.ledger.application import open_ledger

    ledger, sealer = open_ledger(settings.event_store)
    try:
        sealer.seal_pending()
        return sealer.log.head().seq
    finally:
        ledger.close()


def healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.5)
