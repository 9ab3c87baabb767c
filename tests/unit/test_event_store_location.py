"""Where the events live: the cluster profile only on PostgreSQL, given as a postgresql:// URL;
the embedded profile on its SQLite file. And the seam's SQL, as PostgreSQL receives it."""

from __future__ import annotations

import pytest

from services.ledger.application import persistence
from services.ledger.checkpoints import SCHEMA as CHECKPOINT_SCHEMA
from services.ledger.database import postgres_ddl, postgres_settings, postgres_sql, redacted
from services.ledger.ledger_tree import SCHEMA as MERKLE_SCHEMA
from services.ledger.sealed_log import SCHEMA as SEALED_LOG_SCHEMA
from services.settings import Settings, SettingsError

URL = "postgresql://eldercare:s%40cret@db.internal:5433/ledger"


def cluster(tmp_path, **extra: str) -> dict[str, str]:
    from services.ledger.signing_key import generate_key_file

    if not (tmp_path / "key.pem").exists():
        generate_key_file(tmp_path / "key.pem")
    return {"ELDERCARE_PROFILE": "cluster", "ELDERCARE_DATA_DIR": str(tmp_path),
            "ELDERCARE_SIGNING_KEY_FILE": str(tmp_path / "key.pem"), **extra}


def test_the_cluster_profile_needs_a_postgresql_event_store(tmp_path):
    with pytest.raises(SettingsError, match="ELDERCARE_EVENT_STORE_URL"):
        Settings.from_env(cluster(tmp_path))
    with pytest.raises(SettingsError, match="postgresql://"):
        Settings.from_env(cluster(tmp_path, ELDERCARE_EVENT_STORE_URL=str(tmp_path / "ledger.sqlite")))
    with pytest.raises(SettingsError, match="database"):
        Settings.from_env(cluster(tmp_path, ELDERCARE_EVENT_STORE_URL="postgresql://eldercare@db.internal:5433"))
    assert Settings.from_env(cluster(tmp_path, ELDERCARE_EVENT_STORE_URL=URL)).event_store == URL


def test_the_embedded_profile_keeps_its_sqlite_file_unless_told_otherwise(tmp_path):
    assert Settings.from_env({"ELDERCARE_DATA_DIR": str(tmp_path)}).event_store == str(tmp_path / "ledger.sqlite")
    told = Settings.from_env({"ELDERCARE_DATA_DIR": str(tmp_path), "ELDERCARE_EVENT_STORE_URL": URL})
    assert told.event_store == URL


def test_a_url_becomes_the_event_sourcing_librarys_settings_and_never_shows_its_password():
    assert postgres_settings(URL) == {
        "POSTGRES_HOST": "db.internal", "POSTGRES_PORT": "5433", "POSTGRES_DBNAME": "ledger",
        "POSTGRES_USER": "eldercare", "POSTGRES_PASSWORD": "s@cret",
    }
    assert persistence(URL)["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
    assert persistence(URL)["APPLICATION_RECORDER_TOPIC"] == "services.ledger.sealing_recorders:SealingPostgresRecorder"
    assert persistence("/data/ledger.sqlite") == {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": "/data/ledger.sqlite", "SQLITE_LOCK_TIMEOUT": "30",
        "APPLICATION_RECORDER_TOPIC": "services.ledger.sealing_recorders:SealingSQLiteRecorder",  # saves seal themselves
    }
    assert redacted(URL) == "postgresql://eldercare@db.internal:5433/ledger"
    assert "cret" not in redacted(URL)


def test_postgresql_receives_its_own_placeholders_and_types():
    assert postgres_sql("SELECT a FROM t WHERE b LIKE '%x' AND c = ? AND d IN (?,?)") == (
        "SELECT a FROM t WHERE b LIKE '%%x' AND c = %s AND d IN (%s,%s)"
    )
    sealed = " ".join(postgres_ddl(SEALED_LOG_SCHEMA))
    assert "seq BIGINT PRIMARY KEY" in sealed and "envelope BYTEA NOT NULL" in sealed and "INTEGER" not in sealed
    merkle = postgres_ddl(MERKLE_SCHEMA)
    assert len(merkle) == 1 and "ROWID" not in merkle[0] and "hash BYTEA NOT NULL" in merkle[0]
    assert "n BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY" in " ".join(postgres_ddl(CHECKPOINT_SCHEMA))
