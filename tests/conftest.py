"""Shared fixtures: a ledger on a temporary SQLite store with a fixed clock, request builders that
satisfy every rule (tests then break exactly one), and the real servers from deploy/local."""

from __future__ import annotations

import copy
import functools
import os
import time
import uuid
from collections.abc import Iterable
from datetime import datetime

import pytest

import events  # noqa: F401
from services.api.examples import DISCOVERY_EXAMPLE, FILING_EXAMPLE
from services.domain.actors import Actor
from services.domain.credit_code import with_check_character
from services.ledger.application import BEIJING, Basis, Command, open_ledger

TODAY = datetime(2024, 6, 3, 10, 0, tzinfo=BEIJING)


def county_officer(region: str = "321111", department: str = "civil_affairs") -> Actor:
    return Actor(department, "county", region, "经办人甲")


def filing_request(**changes) -> dict:
    """A filing every rule accepts (Zhenjiang 润州区, for-profit, on time, complete materials)."""
    body = copy.deepcopy(FILING_EXAMPLE)
    body.pop("basis")
    body.update(changes)
    return body


def discovery_request(**changes) -> dict:
    body = copy.deepcopy(DISCOVERY_EXAMPLE)
    body.pop("basis")
    body.update(changes)
    return body


def unique_credit_code(region: str = "321111", prefix: str = "91") -> str:
    body = uuid.uuid4().hex.upper()[:9]  # hex digits are all in GB 32100's character set
    return with_check_character(prefix + region + body)


BASIS = Basis("润民养备〔2024〕12号", "《养老机构管理办法》第九条")


def command(request: dict, actor: Actor | None = None, key: str | None = None) -> Command:
    return Command(actor or county_officer(), BASIS, request, key)


def decide(app, name: str, request: dict, target=None, actor: Actor | None = None, basis: Basis = BASIS):
    """Run one command of the operation table as ``actor`` (a county civil-affairs officer by default)."""
    return app.execute(name, Command(actor or county_officer(), basis, request, None), target)


@functools.cache
def _enum_codes() -> frozenset[str]:
    """Every code word the ledger uses for a value (enum values, record states, departments,
    levels, roles): none may appear inside a Chinese message."""
    import re

    from events import CATALOGUE
    from events.record_kinds import KINDS
    from services.domain.actors import ROLES

    codes: set[str] = set(ROLES)

    def walk(spec) -> None:
        codes.update(spec.enum)
        if spec.items:
            walk(spec.items)
        for member in spec.fields:
            walk(member)

    for event_type in CATALOGUE.types.values():
        for spec in event_type.fields:
            walk(spec)
    for kind in KINDS.values():
        codes.update(kind.states)
    return frozenset(c for c in codes if re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]{2,}", c))


def english_codes_in(message_zh: str, names: Iterable[str] = ()) -> list[str]:
    """The code words (``approved``, ``county``, ``fire_rescue`` …) a Chinese message carries: a
    message names values in Chinese. ``names``: identifiers the refusal itself names as the field or
    parameter at fault (its details), which a message may cite."""
    import re

    words = re.findall(r"(?<![A-Za-z0-9_.-])[A-Za-z][A-Za-z0-9_-]*(?![A-Za-z0-9_.-])", message_zh)
    return sorted({w for w in words if w in _enum_codes() and w not in set(names)})


def refused(app, call, code: str):
    """``call`` is refused with ``code``, a Chinese message without code words, and the event store
    holds exactly what it held before."""
    from services.domain.errors import DomainError

    before = app.recorder.max_notification_id()
    with pytest.raises(DomainError) as error:
        call()
    assert error.value.code == code
    assert not english_codes_in(error.value.message_zh), error.value.message_zh
    assert app.recorder.max_notification_id() == before
    return error.value


class Clock:
    """A clock tests can move: ``clock.set(date(2024, 7, 1))``."""

    def __init__(self, now: datetime = TODAY) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, day) -> None:
        self.now = datetime(day.year, day.month, day.day, 10, 0, tzinfo=BEIJING)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def ledger(tmp_path, clock):
    app, sealer = open_ledger(tmp_path / "ledger.sqlite", clock=clock)
    yield app, sealer
    app.close()
    sealer.log.close()


# --- real servers -------------------------------------------------------------------------------


def _wait_for_kafka(bootstrap: str, timeout: float = 60) -> None:
    from kafka.admin import KafkaAdminClient

    deadline = time.monotonic() + timeout
    while True:
        try:
            admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
            admin.list_topics()
            admin.close()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


@pytest.fixture(scope="session")
def local_servers():
    """Kafka, Elasticsearch and PostgreSQL on 127.0.0.1, started by deploy/local/servers if not
    already up; those started here are stopped when the session ends."""
    from tests.cluster_run import local_servers as started_if_down

    with started_if_down() as config:
        _wait_for_kafka(config["ELDERCARE_KAFKA_BOOTSTRAP"])
        yield config


@pytest.fixture(scope="session")
def identity_provider():
    """The identity provider the cluster profile trusts: ES256 tokens, JWKS over HTTP on 127.0.0.1."""
    from tests.identity_provider import IdentityProvider

    provider = IdentityProvider()
    yield provider
    provider.stop()


@pytest.fixture
def postgres_database(local_servers):
    """A fresh PostgreSQL database of its own (dropped afterwards): its ``postgresql://`` URL."""
    from tests.cluster_run import fresh_database

    with fresh_database(local_servers["ELDERCARE_EVENT_STORE_URL"], f"test_{uuid.uuid4().hex[:12]}") as url:
        yield url


@pytest.fixture
def cluster_env(local_servers, identity_provider, postgres_database, tmp_path):
    """Environment for one cluster-profile run with its own database, topic, index prefix and data dir."""
    run = uuid.uuid4().hex[:10]
    env = dict(os.environ)
    env.update(local_servers)
    env.update(
        ELDERCARE_PROFILE="cluster",
        ELDERCARE_EVENT_STORE_URL=postgres_database,
        ELDERCARE_DATA_DIR=str(tmp_path / "data"),
        ELDERCARE_KAFKA_TOPIC=f"eldercare.ledger.test-{run}",
        ELDERCARE_ES_INDEX_PREFIX=f"test-{run}",
        **identity_provider.env(),
        ELDERCARE_SIGNING_KEY_FILE=str(tmp_path / "checkpoint-key.pem"),
    )
    from services.ledger.signing_key import generate_key_file

    generate_key_file(tmp_path / "checkpoint-key.pem")
    yield env
    from projections.search.elastic import connect

    es = connect(env["ELDERCARE_ES_URL"], env["ELDERCARE_ES_USER"], env["ELDERCARE_ES_PASSWORD"])
    es.options(ignore_status=404).indices.delete(index=f"test-{run}-*")
    es.close()
