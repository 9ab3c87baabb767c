"""The backup and restore drill: the event store's PostgreSQL is archived (a base backup plus every
WAL segment, archive_command), decisions go on being recorded after the base backup, the server
and its disk are lost; a fresh server restored from the backup and the archive has the same
sealed-log head and Merkle root, its checkpoints verify (Ed25519 and SM2), and a Kafka topic and
search indices rebuilt from it reconcile with it. The drill's figures are printed."""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid

import pytest

from services.ledger.application import open_ledger
from services.ledger.ledger_tree import LedgerTree
from services.ledger.sealed_log import SealedLog
from services.ledger.signing_key import generate_key_file
from tests.conftest import TODAY, command, filing_request, unique_credit_code
from tests.postgres_instance import PostgresInstance, owned, scratch
from tests.processes import run

pytestmark = pytest.mark.servers
BEFORE_BACKUP, AFTER_BACKUP = 120, 80


def record(url: str, start: int, count: int) -> None:
    app, sealer = open_ledger(url, clock=lambda: TODAY)
    try:
        for i in range(start, start + count):
            app.file_new(command(filing_request(name=f"润州区第{i}颐养院", credit_code=unique_credit_code(), receipt_no=f"drill-{i}")))
        sealer.seal_pending()
    finally:
        app.close()
        sealer.log.close()


def head_and_root(url: str) -> tuple[int, str, bytes]:
    log = SealedLog(url)
    try:
        head = log.head()
        tree = LedgerTree(log)
        tree.extend(head.seq)
        return head.seq, head.hash, tree.root(head.seq)
    finally:
        log.close()


def test_a_base_backup_and_archived_wal_restore_the_same_ledger_and_rebuild_the_bus_and_index(
        local_servers, identity_provider, tmp_path):
    root = scratch(tmp_path)
    archive = owned(root / "wal-archive")
    primary = PostgresInstance(root / "primary").initdb().configure(
        wal_level="replica", archive_mode="on", archive_command=f"test ! -f {archive}/%f && cp %p {archive}/%f",
        archive_timeout="60").start()
    restored = PostgresInstance(root / "restored")
    key = tmp_path / "checkpoint-key.pem"
    generate_key_file(key)
    run_id = uuid.uuid4().hex[:8]
    env = {**os.environ, **local_servers, **identity_provider.env(), "ELDERCARE_PROFILE": "cluster",
           "ELDERCARE_DATA_DIR": str(tmp_path / "data"), "ELDERCARE_SIGNING_KEY_FILE": str(key),
           "ELDERCARE_KAFKA_TOPIC": f"eldercare.ledger.drill-{run_id}", "ELDERCARE_ES_INDEX_PREFIX": f"drill-{run_id}"}
    figures: dict[str, float | int] = {}
    try:
        primary.sql("CREATE DATABASE eldercare")
        original = env | {"ELDERCARE_EVENT_STORE_URL": primary.url()}
        record(primary.url(), 0, BEFORE_BACKUP)
        run(["audit", "checkpoint"], original)

        started = time.monotonic()
        primary.run("pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "eldercare",
                    "-D", str(root / "base"), "-c", "fast", "-X", "stream")
        figures["base backup s"] = round(time.monotonic() - started, 1)

        # Decisions after the base backup exist only in the WAL archive.
        record(primary.url(), BEFORE_BACKUP, AFTER_BACKUP)
        run(["audit", "checkpoint"], original)
        seq, event_hash, merkle_root = head_and_root(primary.url())
        segment = primary.sql("SELECT pg_walfile_name(pg_current_wal_lsn())")
        primary.sql("SELECT pg_switch_wal()")
        primary.wait_until(f"SELECT last_archived_wal >= '{segment}' FROM pg_stat_archiver", "t")

        primary.crash()  # the server and its disk are lost
        shutil.rmtree(primary.data)

        started = time.monotonic()
        shutil.copytree(root / "base", restored.data)
        owned(restored.root)
        restored.configure(restore_command=f"cp {archive}/%f %p", archive_mode="off")
        (restored.data / "recovery.signal").touch()
        owned(restored.data)
        restored.start()
        restored.wait_until("SELECT pg_is_in_recovery()", "f")
        figures["restore and WAL replay s"] = round(time.monotonic() - started, 1)

        assert head_and_root(restored.url()) == (seq, event_hash, merkle_root)
        figures["events restored"] = seq
        again = env | {"ELDERCARE_EVENT_STORE_URL": restored.url()}
        report = json.loads(run(["audit", "verify"], again))
        assert report["verified"] and report["events"] == seq and report["checkpoints"] == 2, report

        # The bus and the index, rebuilt from the restored ledger, reconcile with it.
        started = time.monotonic()
        run(["relay", "--once"], again)
        run(["project", "--once"], again)
        figures["topic and index rebuilt s"] = round(time.monotonic() - started, 1)
        reconciliation = json.loads(run(["audit", "reconcile"], again))
        assert reconciliation["agree"], reconciliation
        print("backup drill:", figures)
    finally:
        primary.remove()
        restored.remove()
        shutil.rmtree(root, ignore_errors=True)
        from projections.search.elastic import connect

        es = connect(local_servers["ELDERCARE_ES_URL"], local_servers["ELDERCARE_ES_USER"], local_servers["ELDERCARE_ES_PASSWORD"])
        es.options(ignore_status=404).indices.delete(index=f"drill-{run_id}-*")
        es.close()
