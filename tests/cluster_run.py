"""A cluster-profile run for the benchmarks (bench/faults.py, bench/load.py): the local servers
started if they are down (and stopped again), and per run a PostgreSQL database, a Kafka topic, an
Elasticsearch index prefix, a data dir and a signing key of its own, removed afterwards. The test
suite's fixtures (tests/conftest.py) do the same for pytest."""

from __future__ import annotations

import os
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from projections.search.elastic import connect
from services.ledger.database import open_database
from services.ledger.signing_key import generate_key_file
from tests.processes import REPO

SERVERS = REPO / "deploy" / "local" / "servers"
NAMES = ("kafka", "elasticsearch", "postgres")


@contextmanager
def local_servers() -> Iterator[dict[str, str]]:
    """The servers' settings (deploy/local/servers env); those started here are stopped after."""
    status = subprocess.run([str(SERVERS), "status"], capture_output=True, text=True).stdout
    started = [name for name in NAMES if f"{name}: down" in status]
    try:
        for name in started:
            subprocess.run([str(SERVERS), "start", name], check=True)
        exports = subprocess.run([str(SERVERS), "env"], capture_output=True, text=True, check=True).stdout
        yield dict(line.removeprefix("export ").split("=", 1) for line in exports.splitlines() if line)
    finally:
        for name in started:
            subprocess.run([str(SERVERS), "stop", name], check=False)


@contextmanager
def fresh_database(server_url: str, name: str) -> Iterator[str]:
    """A new database ``name`` on the server of ``server_url``: its URL; dropped afterwards."""
    server = open_database(server_url)
    server.rows(f"CREATE DATABASE {name}")
    try:
        yield server_url.rsplit("/", 1)[0] + "/" + name
    finally:
        server.rows(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        server.close()


@contextmanager
def cluster_run(servers: dict[str, str], identity_env: dict[str, str], tag: str) -> Iterator[dict[str, str]]:
    """The environment of one cluster-profile run, on its own database, topic and indices."""
    run = f"{tag}_{uuid.uuid4().hex[:10]}"
    try:
        with fresh_database(servers["ELDERCARE_EVENT_STORE_URL"], run) as event_store, tempfile.TemporaryDirectory() as tmp:
            generate_key_file(Path(tmp) / "key.pem")
            yield dict(os.environ) | servers | identity_env | dict(
                ELDERCARE_PROFILE="cluster", ELDERCARE_DATA_DIR=f"{tmp}/data", ELDERCARE_EVENT_STORE_URL=event_store,
                ELDERCARE_KAFKA_TOPIC=f"eldercare.ledger.{run}", ELDERCARE_ES_INDEX_PREFIX=run.replace("_", "-"),
                ELDERCARE_SIGNING_KEY_FILE=f"{tmp}/key.pem",
            )
    finally:
        es = connect(servers["ELDERCARE_ES_URL"], servers["ELDERCARE_ES_USER"], servers["ELDERCARE_ES_PASSWORD"])
        es.options(ignore_status=404).indices.delete(index=f"{run.replace('_', '-')}-*")
        es.close()
