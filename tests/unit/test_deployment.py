"""deploy/compose.yaml cannot be run here (no Docker), so it is held to the code: every service
of ours starts an `eldercare` command that exists, with settings the services read and that make
a valid cluster configuration; ports are published on 127.0.0.1 only; the Dockerfile copies what
exists."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from services.cli import parser
from services.ledger.signing_key import generate_key_file
from services.settings import Settings

REPO = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((REPO / "deploy" / "compose.yaml").read_text(encoding="utf-8"))
OURS = ("api", "relay", "projector")


def resolved(value: str) -> str:
    """${VAR:?message} and ${VAR:-default} as compose would fill them, with stand-ins."""
    return re.sub(r"\$\{([A-Z_]+):[?-]([^}]*)\}", lambda m: m[2] if ":-" in m[0] else f"stand-in-{m[1].lower()}", value)


def test_every_service_runs_an_existing_command_with_settings_the_services_read(tmp_path):
    known = set(re.findall(r"ELDERCARE_[A-Z_]+", (REPO / "services" / "settings.py").read_text()))
    for name in OURS:
        service = COMPOSE["services"][name]
        parser().parse_args(service["command"])  # exits (fails the test) if the command does not exist
        env = {k: resolved(str(v)) for k, v in service["environment"].items()}
        assert set(env) <= known, set(env) - known
        key = tmp_path / f"{name}.pem"
        generate_key_file(key)
        settings = Settings.from_env(env | {"ELDERCARE_SIGNING_KEY_FILE": str(key), "ELDERCARE_DATA_DIR": str(tmp_path / name)})
        assert settings.profile == "cluster" and settings.jwt_secret is None and settings.jwt_jwks_url
        assert settings.event_store.startswith("postgresql://postgres:5432/") or "@postgres:5432/" in settings.event_store


def test_ports_are_published_on_loopback_only_and_the_image_copies_what_exists():
    for service in COMPOSE["services"].values():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), port
    dockerfile = (REPO / "deploy" / "Dockerfile").read_text()
    for source in re.findall(r"^COPY (\S+(?: \S+)*?) \S+$", dockerfile, re.M):
        for path in source.split():
            assert (REPO / path).exists(), path


def test_secrets_come_from_files_and_never_twice(tmp_path):
    import pytest

    from services.ledger.database import postgres_settings
    from services.settings import SettingsError

    def secret(name: str, value: str) -> str:
        path = tmp_path / name
        path.write_text(value + "\n", encoding="utf-8")
        return str(path)

    base = {"ELDERCARE_DATA_DIR": str(tmp_path / "data")}
    settings = Settings.from_env(base | {"ELDERCARE_JWT_SECRET_FILE": secret("jwt", "s" * 40),
                                         "ELDERCARE_ES_PASSWORD_FILE": secret("es", "搜索口令 with spaces")})
    assert settings.jwt_secret == "s" * 40 and settings.es_password == "搜索口令 with spaces"

    key = tmp_path / "key.pem"
    generate_key_file(key)
    cluster = base | {"ELDERCARE_PROFILE": "cluster", "ELDERCARE_SIGNING_KEY_FILE": str(key),
                      "ELDERCARE_EVENT_STORE_URL_FILE": secret("url", "postgresql://ledger@127.0.0.1:5432/eldercare"),
                      "ELDERCARE_EVENT_STORE_PASSWORD_FILE": secret("pw", "p@ss:w/rd%")}
    store = Settings.from_env(cluster).event_store
    assert postgres_settings(store)["POSTGRES_PASSWORD"] == "p@ss:w/rd%" and postgres_settings(store)["POSTGRES_USER"] == "ledger"

    with pytest.raises(SettingsError, match="not both"):
        Settings.from_env(base | {"ELDERCARE_JWT_SECRET": "x" * 40, "ELDERCARE_JWT_SECRET_FILE": secret("jwt2", "y" * 40)})
    with pytest.raises(SettingsError, match="cannot be read"):
        Settings.from_env(base | {"ELDERCARE_ES_PASSWORD_FILE": str(tmp_path / "missing")})
    with pytest.raises(SettingsError, match="give it once"):
        Settings.from_env(cluster | {"ELDERCARE_EVENT_STORE_URL_FILE": secret("url2", "postgresql://ledger:old@127.0.0.1/eldercare")})


def test_replication_is_configuration_with_single_node_defaults(tmp_path):
    from services.settings import Replication, SettingsError

    base = {"ELDERCARE_DATA_DIR": str(tmp_path)}
    assert Settings.from_env(base).replication == Replication(1, 1, 0)
    replicated = Settings.from_env(base | {"ELDERCARE_KAFKA_REPLICATION_FACTOR": "3", "ELDERCARE_KAFKA_MIN_INSYNC_REPLICAS": "2",
                                           "ELDERCARE_ES_REPLICAS": "1"})
    assert replicated.replication == Replication(3, 2, 1)
    with pytest.raises(SettingsError, match="cannot exceed"):
        Settings.from_env(base | {"ELDERCARE_KAFKA_MIN_INSYNC_REPLICAS": "2"})
    for name, value in (("ELDERCARE_KAFKA_REPLICATION_FACTOR", "0"), ("ELDERCARE_ES_REPLICAS", "-1")):
        with pytest.raises(SettingsError, match=name):
            Settings.from_env(base | {name: value})


def test_compose_and_chart_pin_the_servers_make_test_runs_behind_a_registry_prefix():
    script = (REPO / "deploy" / "local" / "servers").read_text()
    kafka = re.search(r"^KAFKA_VERSION=(\S+)", script, re.M)[1]
    elasticsearch = re.search(r"^ES_VERSION=(\S+)", script, re.M)[1]
    [postgres_bin] = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))[-1:]  # installed by `servers fetch`
    postgres = re.search(r"PostgreSQL\) (\d+\.\d+)", subprocess.run([postgres_bin, "--version"], capture_output=True,
                                                                      text=True).stdout)[1]
    images = {name: resolved(service["image"]) for name, service in COMPOSE["services"].items()}
    assert images["postgres"] == f"docker.io/library/postgres:{postgres}"
    assert images["kafka"] == f"docker.io/apache/kafka:{kafka}"
    assert images["elasticsearch"] == f"docker.io/library/elasticsearch:{elasticsearch}"
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert {images[name] for name in OURS} == {f"docker.io/eldercare/eldercare-ledger:{version}"}
    for service in COMPOSE["services"].values():
        assert service["image"].startswith("${ELDERCARE_REGISTRY:-docker.io}/")
    assert "FROM ${REGISTRY}/" in (REPO / "deploy" / "Dockerfile").read_text()
    chart = yaml.safe_load((REPO / "deploy" / "helm" / "eldercare" / "Chart.yaml").read_text())["annotations"]
    assert (chart["eldercare.gov.cn/tested-postgresql"], chart["eldercare.gov.cn/tested-kafka"],
            chart["eldercare.gov.cn/tested-elasticsearch"]) == (postgres, kafka, elasticsearch)


def test_a_search_cluster_is_named_by_its_nodes_urls():
    from projections.search.elastic import connect

    client = connect("http://127.0.0.1:29200, http://127.0.0.1:29201,http://127.0.0.1:29202", "eldercare", "x")
    try:
        assert sorted(node.base_url for node in client.transport.node_pool.all()) == [
            "http://127.0.0.1:29200", "http://127.0.0.1:29201", "http://127.0.0.1:29202"]
    finally:
        client.close()


def test_the_local_cluster_is_what_the_replication_settings_describe():
    """deploy/local/servers env cluster: three brokers and three search nodes named in the settings,
    the replicated profile's copies, and a standby to fail over to."""
    exports = subprocess.run([str(REPO / "deploy/local/servers"), "env", "cluster"], capture_output=True, text=True,
                             check=True).stdout
    env = dict(line.removeprefix("export ").split("=", 1) for line in exports.splitlines() if line)
    standby = env.pop("LOCAL_CLUSTER_STANDBY_URL")
    settings = Settings.from_env(env | {"ELDERCARE_DATA_DIR": "/tmp/x"})
    assert len(settings.kafka_bootstrap.split(",")) == 3 and len(settings.es_url.split(",")) == 3
    assert (settings.replication.kafka_replication_factor, settings.replication.kafka_min_insync_replicas,
            settings.replication.es_replicas) == (3, 2, 1)
    assert standby.rsplit("/", 1)[1] == settings.event_store_url.rsplit("/", 1)[1]
    assert standby != settings.event_store_url
