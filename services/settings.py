"""Settings, from the environment only. ``ELDERCARE_PROFILE`` picks the profile:

- ``embedded`` (default): SQLite event store, projections follow the sealed log in-process,
  SQLite FTS5 search. No servers.
- ``cluster``: the event store is PostgreSQL (``ELDERCARE_EVENT_STORE_URL``), shared by any number
  of API processes and the relay; the relay copies the sealed log to Kafka; the projector feeds
  Elasticsearch from Kafka; the API searches Elasticsearch.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from public_site.identity import SiteIdentity, from_environment
from services.ledger.database import is_postgres, postgres_settings

PROFILES = ("embedded", "cluster")
EMBEDDED_COMMAND_THREADS = 16  # decisions' threads in one embedded API process (bench/decisions_http.py gives its peer as many)


class SettingsError(RuntimeError):
    pass


@dataclass(frozen=True)
class Replication:
    """How many copies the servers keep: the ledger topic's replication factor and the replicas that
    must have a write before Kafka acknowledges it (the relay sends with acks=all), and each
    Elasticsearch index's replicas. Single-node defaults; a replicated cluster sets 3, 2 and 1. They
    apply when a topic or index is created; the indices' replicas also follow a later change."""

    kafka_replication_factor: int = 1  # ELDERCARE_KAFKA_REPLICATION_FACTOR
    kafka_min_insync_replicas: int = 1  # ELDERCARE_KAFKA_MIN_INSYNC_REPLICAS
    es_replicas: int = 0  # ELDERCARE_ES_REPLICAS

    @classmethod
    def from_env(cls, env: dict[str, str]) -> Replication:
        replication = cls(
            kafka_replication_factor=_positive(env, "ELDERCARE_KAFKA_REPLICATION_FACTOR", 1),
            kafka_min_insync_replicas=_positive(env, "ELDERCARE_KAFKA_MIN_INSYNC_REPLICAS", 1),
            es_replicas=_non_negative(env, "ELDERCARE_ES_REPLICAS", 0),
        )
        if replication.kafka_min_insync_replicas > replication.kafka_replication_factor:
            raise SettingsError("ELDERCARE_KAFKA_MIN_INSYNC_REPLICAS cannot exceed ELDERCARE_KAFKA_REPLICATION_FACTOR "
                                "(no write could ever be acknowledged)")
        return replication


@dataclass(frozen=True)
class Settings:
    profile: str
    data_dir: Path
    event_store_url: str | None  # postgresql://…; required in the cluster profile, optional in embedded
    kafka_bootstrap: str
    kafka_topic: str
    es_url: str
    es_user: str
    es_password: str
    es_index_prefix: str
    jwt_secret: str | None  # HS256 dev secret, embedded profile only
    jwt_issuer: str
    jwt_jwks_url: str | None  # the identity provider's JWKS (OIDC jwks_uri); required by the API in the cluster profile
    log_origin: str
    signing_key_file: Path
    checkpoint_every_events: int
    checkpoint_every_minutes: int
    rate_limit_per_minute: int  # per caller; 0: off
    rate_limit_burst: int
    rate_limit_address_factor: int  # a client address may send this many times one subject's rate (offices share NAT)
    forwarded_allow_ips: str  # reverse proxies whose X-Forwarded-For is trusted for the client address ("" : none)
    api_threads: int  # the API's worker threads for synchronous endpoints
    command_threads: int  # the threads decisions run on (they wait for their commit together)
    site: SiteIdentity  # who publishes the public site and where (ELDERCARE_SITE_*)
    # The console's OpenID Connect client (authorization code with PKCE) at the identity provider
    # whose keys sign the API's tokens (ELDERCARE_JWT_ISSUER, its /.well-known/openid-configuration).
    oidc_client_id: str = "eldercare-console"
    oidc_client_secret: str | None = None  # a confidential client's secret (else a public client: PKCE alone)
    console_url: str | None = None  # the console's address as browsers reach it (behind a proxy), for the redirect URI
    request_log_max_bytes: int = 100 * 1024 * 1024  # the request audit log file rotates past this (ELDERCARE_REQUEST_LOG_MAX_MB)
    request_log_keep: int = 20  # rotated files kept (ELDERCARE_REQUEST_LOG_KEEP)
    replication: Replication = field(default_factory=Replication)

    @property
    def event_store(self) -> str:
        """Where the events and the ledger's tables live: a PostgreSQL URL, or the SQLite file."""
        return self.event_store_url or str(self.data_dir / "ledger.sqlite")

    @property
    def search_db_path(self) -> Path:
        return self.data_dir / "search.sqlite"

    @property
    def snapshot_dir(self) -> Path:
        return self.data_dir / "snapshots"

    @property
    def site_dir(self) -> Path:
        return self.data_dir / "site"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = with_secret_files(dict(os.environ if env is None else env))
        profile = env.get("ELDERCARE_PROFILE", "embedded")
        if profile not in PROFILES:
            raise SettingsError(f"ELDERCARE_PROFILE must be one of {PROFILES}, not {profile!r}")
        data_dir = Path(env.get("ELDERCARE_DATA_DIR", "var")).resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        return cls(
            profile=profile,
            data_dir=data_dir,
            event_store_url=_event_store_url(env, profile),
            kafka_bootstrap=env.get("ELDERCARE_KAFKA_BOOTSTRAP", "127.0.0.1:19092"),
            kafka_topic=env.get("ELDERCARE_KAFKA_TOPIC", "eldercare.ledger.v1"),
            es_url=env.get("ELDERCARE_ES_URL", "http://127.0.0.1:19200"),
            es_user=env.get("ELDERCARE_ES_USER", "eldercare"),
            es_password=env.get("ELDERCARE_ES_PASSWORD", ""),
            es_index_prefix=env.get("ELDERCARE_ES_INDEX_PREFIX", "eldercare"),
            jwt_secret=_jwt_secret(env, profile, data_dir),
            jwt_issuer=env.get("ELDERCARE_JWT_ISSUER", "eldercare-dev"),
            jwt_jwks_url=env.get("ELDERCARE_JWT_JWKS_URL") or None,
            log_origin=_log_origin(env),
            signing_key_file=_signing_key_file(env, profile, data_dir),
            checkpoint_every_events=_positive(env, "ELDERCARE_CHECKPOINT_EVERY_EVENTS", 1000),
            checkpoint_every_minutes=_positive(env, "ELDERCARE_CHECKPOINT_EVERY_MINUTES", 10),
            rate_limit_per_minute=_non_negative(env, "ELDERCARE_RATE_LIMIT_PER_MINUTE", 600),
            rate_limit_burst=_positive(env, "ELDERCARE_RATE_LIMIT_BURST", 120),
            rate_limit_address_factor=_positive(env, "ELDERCARE_RATE_LIMIT_ADDRESS_FACTOR", 10),
            forwarded_allow_ips=env.get("ELDERCARE_FORWARDED_ALLOW_IPS", "").strip(),
            api_threads=_positive(env, "ELDERCARE_API_THREADS", 4 if profile == "embedded" else 40),
            command_threads=_positive(env, "ELDERCARE_COMMAND_THREADS", EMBEDDED_COMMAND_THREADS if profile == "embedded" else 40),
            site=_site(env),
            oidc_client_id=env.get("ELDERCARE_OIDC_CLIENT_ID", "eldercare-console").strip() or "eldercare-console",
            oidc_client_secret=env.get("ELDERCARE_OIDC_CLIENT_SECRET") or None,
            console_url=(env.get("ELDERCARE_CONSOLE_URL") or "").strip().rstrip("/") or None,
            request_log_max_bytes=_positive(env, "ELDERCARE_REQUEST_LOG_MAX_MB", 100) * 1024 * 1024,
            request_log_keep=_positive(env, "ELDERCARE_REQUEST_LOG_KEEP", 20),
            replication=Replication.from_env(env),
        )


def _jwt_secret(env: dict[str, str], profile: str, data_dir: Path) -> str | None:
    """Embedded profile only: a configured HS256 secret, or a dev secret kept in the data dir. The
    cluster profile verifies tokens against an identity provider's keys and refuses shared secrets."""
    if profile != "embedded":
        if env.get("ELDERCARE_JWT_SECRET"):
            raise SettingsError(
                "ELDERCARE_JWT_SECRET is embedded-only: the cluster profile verifies tokens against the identity "
                "provider's JWKS (ELDERCARE_JWT_JWKS_URL)"
            )
        return None
    if env.get("ELDERCARE_JWT_SECRET"):
        secret = env["ELDERCARE_JWT_SECRET"]
        if len(secret) < 32:
            raise SettingsError("ELDERCARE_JWT_SECRET must be at least 32 characters (RFC 7518 §3.2)")
        return secret
    path = data_dir / "dev-jwt-secret"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip()


# Secrets may come from files (Docker and Kubernetes secrets, systemd credentials) instead of the
# environment, where they would show in the process table and crash dumps: NAME_FILE names a file
# whose content (less a final line break) is NAME. Giving both is refused.
SECRETS = ("ELDERCARE_JWT_SECRET", "ELDERCARE_ES_PASSWORD", "ELDERCARE_EVENT_STORE_URL", "ELDERCARE_EVENT_STORE_PASSWORD",
           "ELDERCARE_OIDC_CLIENT_SECRET")


def with_secret_files(env: dict[str, str]) -> dict[str, str]:
    for name in SECRETS:
        path = env.get(f"{name}_FILE")
        if not path:
            continue
        if env.get(name):
            raise SettingsError(f"give {name} or {name}_FILE, not both")
        try:
            env[name] = Path(path).read_text(encoding="utf-8").removesuffix("\n").removesuffix("\r")
        except OSError as error:
            raise SettingsError(f"{name}_FILE {path} cannot be read: {error.strerror}") from None
        if not env[name]:
            raise SettingsError(f"{name}_FILE {path} is empty")
    password = env.pop("ELDERCARE_EVENT_STORE_PASSWORD", None)
    if password and env.get("ELDERCARE_EVENT_STORE_URL"):
        env["ELDERCARE_EVENT_STORE_URL"] = _with_password(env["ELDERCARE_EVENT_STORE_URL"], password)
    return env


def _with_password(url: str, password: str) -> str:
    """The PostgreSQL URL with the password given apart from it (so the URL itself holds none)."""
    parts = urlsplit(url)
    if parts.password is not None:
        raise SettingsError("ELDERCARE_EVENT_STORE_URL already holds a password; give it once")
    if not parts.username:
        raise SettingsError("ELDERCARE_EVENT_STORE_URL needs a user name when the password is given apart")
    host = parts.netloc.split("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:{quote(password, safe='')}@{host}"))


def _event_store_url(env: dict[str, str], profile: str) -> str | None:
    url = env.get("ELDERCARE_EVENT_STORE_URL") or None
    if url is None and profile == "cluster":
        raise SettingsError(
            "the cluster profile keeps its events in PostgreSQL: set ELDERCARE_EVENT_STORE_URL="
            "postgresql://user:password@host:port/database (deploy/local/servers env prints one)"
        )
    if url is not None:
        if not is_postgres(url):
            raise SettingsError("ELDERCARE_EVENT_STORE_URL must be a postgresql:// URL")
        try:
            postgres_settings(url)
        except ValueError as error:
            raise SettingsError(f"ELDERCARE_EVENT_STORE_URL: {error}") from None
    return url


def _site(env: dict[str, str]) -> SiteIdentity:
    try:
        return from_environment(env)
    except ValueError as error:
        raise SettingsError(f"ELDERCARE_SITE_*: {error}") from None


def _positive(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name, str(default))
    if not raw.isdigit() or int(raw) < 1:
        raise SettingsError(f"{name} must be a positive whole number, not {raw!r}")
    return int(raw)


def _non_negative(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name, str(default))
    if not raw.isdigit():
        raise SettingsError(f"{name} must be a whole number (0 turns it off), not {raw!r}")
    return int(raw)


def _log_origin(env: dict[str, str]) -> str:
    """The name the ledger's checkpoints are signed under (C2SP: a host/path, no spaces or '+')."""
    origin = env.get("ELDERCARE_LOG_ORIGIN", "eldercare.localhost/ledger")
    if not origin or any(c.isspace() or c == "+" for c in origin):
        raise SettingsError(f"ELDERCARE_LOG_ORIGIN must be a host/path without spaces or '+', not {origin!r}")
    return origin


def _signing_key_file(env: dict[str, str], profile: str, data_dir: Path) -> Path:
    """The Ed25519 key (PKCS#8 PEM) that signs checkpoints: configured, or in the embedded profile
    only a dev key generated in the data dir on first use (services/ledger/signing_key.py)."""
    if env.get("ELDERCARE_SIGNING_KEY_FILE"):
        path = Path(env["ELDERCARE_SIGNING_KEY_FILE"])
        if not path.is_file():
            raise SettingsError(f"ELDERCARE_SIGNING_KEY_FILE {path} does not exist")
        return path
    if profile != "embedded":
        raise SettingsError("the cluster profile needs ELDERCARE_SIGNING_KEY_FILE (dev keys are embedded-only)")
    return data_dir / "dev-signing-key.pem"
