"""deploy/compose.yaml cannot be run here (no Docker), so it is held to the code: every service
of ours starts an `eldercare` command that exists, with settings the services read and that make
a valid cluster configuration; ports are published on 127.0.0.1 only; the Dockerfile copies what
exists."""

from __future__ import annotations

import re
from pathlib import Path

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
