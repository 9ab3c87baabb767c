"""The supervision ledger: every department's commands, each recorded as an immutable event.

A command is: check the rules (services/domain), change the aggregates, save them in one
transaction, seal. Idempotency is part of the aggregate: a command sent with an idempotency key
records the key's digest in its event, so a retried request finds its own earlier event and gets
the same answer, and the event store's optimistic concurrency makes that hold under races too.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError

from events.canonical import canonical_json
from events.sealed_log import SealedLog
from services.domain import registration
from services.domain.actors import Actor
from services.domain.errors import Conflict, NotFound, RuleViolation
from services.domain.identifiers import IdentifierClaim
from services.domain.institution import Institution
from services.ledger.sealer import Sealer

BEIJING = timezone(timedelta(hours=8))
COMMAND_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://eldercare-ledger.example.gov.cn/commands")
SAVE_ATTEMPTS = 3


@dataclass(frozen=True)
class Basis:
    """The legal basis and document number every decision records."""

    document_no: str
    legal_basis: str

    def __post_init__(self) -> None:
        if not self.document_no.strip() or not self.legal_basis.strip():
            raise RuleViolation(
                "BASIS_MISSING",
                "每项决定须载明文书编号（document_no）和法律依据（legal_basis）",
                "every decision records its document number and legal basis",
            )

    def record(self) -> dict[str, str]:
        return {"document_no": self.document_no.strip(), "legal_basis": self.legal_basis.strip()}


@dataclass(frozen=True)
class Command:
    """One request: who, on what basis, with which idempotency key and body."""

    actor: Actor
    basis: Basis
    request: dict[str, Any]
    idempotency_key: str | None = None

    @property
    def command_id(self) -> str | None:
        if self.idempotency_key is None:
            return None
        scope = f"{self.actor.department}|{self.actor.level}|{self.actor.region}|{self.idempotency_key}"
        return hashlib.sha256(scope.encode()).hexdigest()[:32]

    def digest(self, operation: str, target: str | None) -> str:
        body = {"operation": operation, "target": target, "basis": self.basis.record(), "request": self.request}
        return hashlib.sha256(canonical_json(body)).hexdigest()[:32]


@dataclass(frozen=True)
class CommandResult:
    institution_id: UUID
    version: int
    status: str
    replayed: bool


class SupervisionLedger(Application):
    """The eventsourcing application. Persistence comes from the environment (SQLite by default)."""

    name = "SupervisionLedger"

    def __init__(self, env: dict[str, str] | None = None, *, clock: Callable[[], datetime] | None = None) -> None:
        super().__init__(env)
        self.clock = clock or (lambda: datetime.now(BEIJING))
        self.after_commit: list[Callable[[], Any]] = []

    def today(self) -> date:
        return self.clock().astimezone(BEIJING).date()

    # --- queries ----------------------------------------------------------------------------

    def institution(self, institution_id: UUID) -> Institution:
        try:
            return self.repository.get(institution_id)
        except AggregateNotFoundError:
            raise NotFound(
                "INSTITUTION_NOT_FOUND",
                f"未找到机构 {institution_id}",
                f"no institution {institution_id}",
                institution_id=str(institution_id),
            ) from None

    def _find(self, aggregate_id: UUID) -> Any | None:
        try:
            return self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None

    # --- commands ---------------------------------------------------------------------------

    def discover(self, command: Command) -> CommandResult:
        return self._create(command, "discover", registration.discover, Institution.discover)

    def file_new(self, command: Command) -> CommandResult:
        return self._create(command, "file", registration.file, Institution.register_filed)

    def file(self, institution_id: UUID, command: Command) -> CommandResult:
        digest = command.digest("file", str(institution_id))
        for _ in range(SAVE_ATTEMPTS):
            institution = self.institution(institution_id)
            replay = _replayed(institution, command.command_id, digest)
            if replay:
                return replay
            institution.ensure_can_file()
            decision = registration.file(command.request, command.actor, self.today())
            institution.file(**self._decision_record(command, decision, digest))
            claims = self._claims(institution, command, decision, digest)
            if self._save(institution, *claims):
                return CommandResult(institution.id, institution.version, institution.status, False)
        raise _contention()

    def _create(self, command: Command, operation: str, rules, constructor) -> CommandResult:
        digest = command.digest(operation, None)
        cid = command.command_id
        institution_id = uuid.uuid5(COMMAND_NAMESPACE, cid) if cid else uuid.uuid4()
        for _ in range(SAVE_ATTEMPTS):
            if cid:
                existing = self._find(institution_id)
                if existing is not None:
                    replay = _replayed(existing, cid, digest)
                    if replay:
                        return replay
                    raise _key_reused()
            decision = rules(command.request, command.actor, self.today())
            institution = constructor(institution_id, **self._decision_record(command, decision, digest))
            claims = self._claims(institution, command, decision, digest)
            if self._save(institution, *claims):
                return CommandResult(institution.id, institution.version, institution.status, False)
        raise _contention()

    def _decision_record(self, command: Command, decision: registration.Decision, digest: str) -> dict[str, Any]:
        return {
            "event_id": str(uuid.uuid4()),
            "occurred_at": decision.occurred_at,
            "actor": command.actor.record(),
            "basis": command.basis.record(),
            "rule_version": decision.rule_version,
            "command_id": command.command_id,
            "request_digest": digest,
            "payload": decision.payload,
        }

    def _claims(self, institution: Institution, command: Command, decision, digest: str) -> list[IdentifierClaim]:
        """Bind the credit code and receipt number to this institution, unless already bound to it."""
        claims = []
        for kind in ("credit_code", "receipt_no"):
            value = decision.payload.get(kind)
            if not value:
                continue
            existing = self._find(IdentifierClaim.id_for(kind, value))
            if existing is not None:
                if existing.institution != str(institution.id):
                    raise _identifier_in_use(kind, value, existing.institution)
                continue
            record = self._decision_record(command, decision, digest)
            record.pop("payload")
            claims.append(IdentifierClaim.claim(kind, value, institution.id, **record))
        return claims

    def _save(self, *aggregates: Any) -> bool:
        """Save atomically; False if someone else wrote first (the caller reloads and retries)."""
        try:
            self.save(*aggregates)
        except IntegrityError:
            return False
        for callback in self.after_commit:
            callback()
        return True


def _replayed(institution: Institution, command_id: str | None, digest: str) -> CommandResult | None:
    if command_id is None or command_id not in institution.commands:
        return None
    if institution.commands[command_id] != digest:
        raise _key_reused()
    return CommandResult(institution.id, institution.version, institution.status, True)


def _key_reused() -> Conflict:
    return Conflict(
        "IDEMPOTENCY_KEY_REUSED",
        "该幂等键（Idempotency-Key）已用于内容不同的请求，请为新请求使用新的幂等键",
        "this Idempotency-Key was already used for a different request; use a new key",
    )


def _contention() -> Conflict:
    return Conflict(
        "CONCURRENT_MODIFICATION",
        "该记录正被同时修改，请稍后重试",
        "the record was modified concurrently; retry the request",
    )


def _identifier_in_use(kind: str, value: str, holder: str) -> Conflict:
    names = {"credit_code": ("统一社会信用代码", "unified social credit code"), "receipt_no": ("备案回执编号", "filing receipt number")}
    zh, en = names[kind]
    return Conflict(
        f"{kind.upper()}_IN_USE",
        f"{zh} {value} 已登记于其他机构（{holder}）",
        f"{en} {value} already belongs to another institution ({holder})",
        holder_institution_id=holder,
    )


def open_ledger(event_store_path: Path, *, clock: Callable[[], datetime] | None = None) -> tuple[SupervisionLedger, Sealer]:
    """The ledger on a SQLite event store, with its sealer run after every command."""
    app = SupervisionLedger(
        {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(event_store_path),
            "SQLITE_LOCK_TIMEOUT": "30",
        },
        clock=clock,
    )
    sealer = Sealer(app, SealedLog(event_store_path))
    app.after_commit.append(sealer.seal_pending)
    return app, sealer
