"""The supervision ledger: every department's commands, each recorded as an immutable event.

A command is: check the rules (services/domain), change the aggregates, save them in one
transaction, seal. Idempotency is part of the aggregate: a command sent with an idempotency key
records the key's digest in its event, so a retried request finds its own earlier event and gets
the same answer, and the event store's optimistic concurrency makes that hold under races too.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent

from events.canonical import canonical_json
from events.regions import prefix_of
from services.domain.actors import Actor
from services.domain.decisions import Context, Decision
from services.domain.errors import Conflict, NotCompetent, NotFound, RuleViolation
from services.domain.identifiers import IdentifierClaim
from services.domain.institution import Institution
from services.domain.operations import OPERATIONS
from services.domain.recorded import LedgerAggregate, key_reused
from services.domain.standing import Standing
from services.domain.validation import check_shape
from services.ledger.database import is_postgres, postgres_settings
from services.ledger.group_commit import GroupCommit
from services.ledger.sealed_log import SealedLog
from services.ledger.sealer import Sealer

BEIJING = timezone(timedelta(hours=8))
COMMAND_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://eldercare-ledger.example.gov.cn/commands")
SAVE_ATTEMPTS = 3


@dataclass(frozen=True)
class Basis:
    """The legal basis and document number every decision records — and, for a decision taken
    before the ledger and imported from an existing register, where it came from (``imported_from``:
    the source file's SHA-256, its name and the row)."""

    document_no: str
    legal_basis: str
    imported_from: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if not self.document_no.strip() or not self.legal_basis.strip():
            raise RuleViolation(
                "BASIS_MISSING",
                "每项决定须载明文书编号（document_no）和法律依据（legal_basis）",
                "every decision records its document number and legal basis",
            )

    def record(self) -> dict[str, Any]:
        out: dict[str, Any] = {"document_no": self.document_no.strip(), "legal_basis": self.legal_basis.strip()}
        if self.imported_from is not None:
            out["imported_from"] = dict(self.imported_from)
        return out


@dataclass(frozen=True)
class Command:
    """One request: who, on what basis, with which idempotency key and body."""

    actor: Actor
    basis: Basis
    request: dict[str, Any]
    idempotency_key: str | None = None
    # A key names the request within its actor's scope — except an import's, which names the decision
    # itself (whoever imports it, from whichever file).
    scoped: bool = True

    @property
    def command_id(self) -> str | None:
        if self.idempotency_key is None:
            return None
        scope = f"{self.actor.department}|{self.actor.level}|{self.actor.region}|{self.idempotency_key}" if self.scoped else self.idempotency_key
        return hashlib.sha256(scope.encode()).hexdigest()[:32]

    def digest(self, operation: str, target: str | None) -> str:
        basis = {k: v for k, v in self.basis.record().items() if k != "imported_from"}  # provenance, not content
        body = {"operation": operation, "target": target, "basis": basis, "request": self.request}
        return hashlib.sha256(canonical_json(body)).hexdigest()[:32]


@dataclass(frozen=True)
class CommandResult:
    aggregate_id: UUID
    aggregate_type: str
    version: int
    status: str | None
    replayed: bool
    institution_id: str | None
    seq: int | None = None  # the decision's place in the ledger, when this call recorded it

    @classmethod
    def of(cls, aggregate: Any, replayed: bool, seq: int | None = None) -> CommandResult:
        institution = str(aggregate.id) if isinstance(aggregate, Institution) else getattr(aggregate, "institution_id", None)
        return cls(aggregate.id, type(aggregate).__name__, aggregate.version, getattr(aggregate, "status", None), replayed, institution,
                   seq)


class SupervisionLedger(Application):
    """The eventsourcing application. Persistence comes from the environment (SQLite by default)."""

    name = "SupervisionLedger"

    def __init__(self, env: dict[str, str] | None = None, *, clock: Callable[[], datetime] | None = None) -> None:
        super().__init__(env)
        # Group commit records events without their aggregates: no snapshots taken from them, and no
        # aggregate cache that only a save would update (a cache that fast-forwards reads the store).
        if self.snapshots is not None:
            raise RuntimeError("the ledger saves by group commit, which takes no snapshots: leave IS_SNAPSHOTTING_ENABLED off")
        if self.repository.cache is not None and not self.repository.fastforward:
            raise RuntimeError("the ledger saves by group commit: an aggregate cache must fast-forward (AGGREGATE_CACHE_FASTFORWARD)")
        self.clock = clock or (lambda: datetime.now(BEIJING))
        self.after_commit: list[Callable[[], Any]] = []
        self.group_commit = GroupCommit(self._record_saves, self._after_commit)
        self.sealer: Sealer | None = None
        # The key draw seeds derive from: the deployment's (services/bootstrap.py sets it from the
        # checkpoint signing key); a ledger opened alone gets one for its own life only.
        self.draw_key: bytes = os.urandom(32)

    def today(self) -> date:
        return self.clock().astimezone(BEIJING).date()

    # --- reads (also the rules' Lookup) -----------------------------------------------------

    def aggregate(self, cls: type, aggregate_id: UUID | str) -> Any:
        """The aggregate, or NotFound with a code naming what was looked for."""
        try:
            found = self._find(aggregate_id if isinstance(aggregate_id, UUID) else UUID(str(aggregate_id)))
        except ValueError:
            found = None
        if not isinstance(found, cls) or found.kind.bookkeeping:
            name = "Record" if cls is LedgerAggregate else cls.__name__
            code = "".join("_" + c if c.isupper() else c.upper() for c in name).lstrip("_") + "_NOT_FOUND"
            raise NotFound(
                code,
                f"未找到{getattr(cls, 'NAME_ZH', name)} {aggregate_id}",
                f"no {name} {aggregate_id}",
                id=str(aggregate_id),
            )
        return found

    def institution(self, institution_id: UUID) -> Institution:
        return self.aggregate(Institution, institution_id)

    def standing(self, institution_id: str) -> Standing:
        """The institution and every aggregate that names it (a committed event is a sealed one:
        saves seal in their own transaction, so the sealed log is complete)."""
        institution = self.institution(institution_id)
        related = [
            self.repository.get(UUID(aggregate_id))
            for aggregate_id, _ in self.sealer.log.aggregates_of(str(institution.id))
            if aggregate_id != str(institution.id)
        ]
        return Standing(institution, [a for a in related if not isinstance(a, IdentifierClaim)])

    def institutions_in(self, region_code: str) -> list[str]:
        """Ids of every institution registered (filed or known unfiled) within a region code."""
        prefix = prefix_of(region_code)
        latest_region = {
            e["institution_id"]: e["payload"]["region_code"]
            for e in self.sealer.log.iterate_types(("InstitutionDiscovered", "InstitutionFiled"))
        }
        return sorted(i for i, region in latest_region.items() if region.startswith(prefix))

    def holder_of(self, kind: str, value: str) -> str | None:
        """The institution an identifier (credit code, receipt number) is bound to, if any."""
        claim = self._find(IdentifierClaim.id_for(kind, value))
        return claim.institution if claim is not None else None

    def records_with(self, event_types: tuple[str, ...]) -> list[Any]:
        """Every record with an event of these types, oldest first."""
        return [self.repository.get(UUID(aggregate_id)) for aggregate_id in self.sealer.log.aggregates_with(event_types)]

    def draw_seed(self, nonce: str) -> str:
        """A double-random draw's seed, from the ledger's draw key and the nonce its plan fixed: the
        plan commits to it (SHA-256) before the pools exist, the draw reveals it."""
        return hmac.new(self.draw_key, f"eldercare-draw-seed|{nonce}".encode(), hashlib.sha256).hexdigest()

    def _find(self, aggregate_id: UUID) -> Any | None:
        try:
            return self.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None

    # --- commands ---------------------------------------------------------------------------

    def execute(self, name: str, command: Command, target_id: UUID | None = None, *, dry_run: bool = False) -> CommandResult:
        """Run one command: rules, aggregate change, atomic save, seal. Retried on a write race.
        With ``dry_run`` everything is checked and nothing is saved."""
        op = OPERATIONS[name]
        if op.step is not None and op.step.falls_due is not None and not command.actor.is_system:
            raise NotCompetent(
                "SYSTEM_ONLY", f"“{op.step.title_zh}”由台账调度程序在期限届满后自动记录", "only the ledger's scheduler records this",
            )
        if op.step is not None and op.step.imported and command.basis.imported_from is None:
            raise RuleViolation(
                "IMPORT_ONLY", f"“{op.step.title_zh}”仅用于导入本系统启用前已作出的决定", "only for decisions imported from an existing register",
            )
        digest = command.digest(name, str(target_id) if target_id else None)
        cid = command.command_id
        new_id = uuid.uuid5(COMMAND_NAMESPACE, cid) if cid else uuid.uuid4()
        for _ in range(SAVE_ATTEMPTS):
            target = None
            if op.creates:
                existing = self._find(new_id) if cid else None
                if existing is not None:
                    if existing.already_did(cid, digest):
                        return CommandResult.of(existing, True)
                    raise key_reused()
            else:
                target = self.aggregate(op.aggregate, target_id)
                if target.already_did(cid, digest):
                    return CommandResult.of(target, True)
                target.require_step(op.step)  # the states the record kind allows this step from
            check_shape(op.event_type.fields, command.request, op.computed, op.defaults)
            context = Context(command.request, command.actor, self.today(), target, self, imported=command.basis.imported_from is not None)
            decision = op.decide(context)
            if target is not None and op.step is not None and op.step.falls_due is None:
                target.require_in_date_order(decision.occurred_at, op.step)
            record = self._decision_record(command, decision, digest)
            if op.creates:
                aggregate = op.aggregate.create(new_id, op.event_type.name, **record)
            else:
                target.decide(op.event_type.name, **record)
                aggregate = target
            claims = self._claims(aggregate, command, decision, digest)
            others = op.follow_up(context, decision, self._decision_record(command, decision, digest), aggregate) if op.follow_up else []
            if dry_run:
                return CommandResult.of(aggregate, False)
            seqs = self._save(aggregate, *others, *claims)
            if seqs is not None:
                return CommandResult.of(aggregate, False, seqs.get((str(aggregate.id), aggregate.version)))
        raise _contention()

    def discover(self, command: Command) -> CommandResult:
        return self.execute("institution.discover", command)

    def file_new(self, command: Command) -> CommandResult:
        return self.execute("institution.file_new", command)

    def file(self, institution_id: UUID, command: Command) -> CommandResult:
        return self.execute("institution.file", command, institution_id)

    def _decision_record(self, command: Command, decision: Decision, digest: str) -> dict[str, Any]:
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

    def _claims(self, aggregate: Any, command: Command, decision: Decision, digest: str) -> list[IdentifierClaim]:
        """Bind each claimed identifier to the record, unless already bound to it."""
        institution = str(aggregate.id) if isinstance(aggregate, Institution) else decision.payload.get("institution_id")
        claims = []
        for kind, value in decision.claims:
            existing = self._find(IdentifierClaim.id_for(kind, value))
            if existing is not None:
                if existing.holder != str(aggregate.id):
                    raise _identifier_in_use(kind, value, existing.holder)
                continue
            record = self._decision_record(command, decision, digest)
            record.pop("payload")
            claims.append(IdentifierClaim.claim(kind, value, institution, aggregate.id, **record))
        return claims

    def _save(self, *aggregates: Any) -> dict[tuple[str, int], int] | None:
        """Save atomically, in one transaction with whatever else is being saved at that moment
        (services/ledger/group_commit.py): the seq each event got, or None if someone else wrote
        first (the caller reloads and retries)."""
        collected: ProcessingEvent[UUID] = ProcessingEvent()
        collected.collect_events(*aggregates)
        return self.group_commit.save(collected.events)

    def _record_saves(self, events: list[Any]) -> dict[tuple[str, int], int]:
        """One transaction for the events of one or more saves: the seq each got."""
        collected: ProcessingEvent[UUID] = ProcessingEvent()
        collected.events = events
        self._notify(self._record(collected))
        return self.recorder.sealed_seqs()

    def _after_commit(self) -> None:
        for callback in self.after_commit:
            callback()


def _contention() -> Conflict:
    return Conflict(
        "CONCURRENT_MODIFICATION",
        "该记录正被同时修改，请稍后重试",
        "the record was modified concurrently; retry the request",
    )


def _identifier_in_use(kind: str, value: str, holder: str) -> Conflict:
    names = {
        "credit_code": ("统一社会信用代码", "unified social credit code"),
        "receipt_no": ("备案回执编号", "filing receipt number"),
        "decision_no": ("行政处罚决定书文号", "penalty decision number"),
    }
    zh, en = names[kind]
    return Conflict(
        f"{kind.upper()}_IN_USE",
        f"{zh} {value} 已被其他记录使用（{holder}）",
        f"{en} {value} already belongs to another record ({holder})",
        holder_institution_id=holder,
    )


def persistence(event_store: Path | str) -> dict[str, str]:
    """The eventsourcing library's settings for an event store location (a PostgreSQL URL or a
    SQLite file)."""
    if is_postgres(event_store):
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            **postgres_settings(str(event_store)),
            "POSTGRES_POOL_SIZE": "10",
            "POSTGRES_MAX_OVERFLOW": "30",
            "POSTGRES_LOCK_TIMEOUT": "30",
            "POSTGRES_CONNECT_TIMEOUT": "1",  # per attempt; the library tries 10 times: a dead database is a 503 in ~12 s
            "POSTGRES_PRE_PING": "y",
            "APPLICATION_RECORDER_TOPIC": "services.ledger.sealing_recorders:SealingPostgresRecorder",
        }
    return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(event_store), "SQLITE_LOCK_TIMEOUT": "30",
            "APPLICATION_RECORDER_TOPIC": "services.ledger.sealing_recorders:SealingSQLiteRecorder"}


def open_ledger(event_store: Path | str, *, clock: Callable[[], datetime] | None = None) -> tuple[SupervisionLedger, Sealer]:
    """The ledger on its event store (SQLite or PostgreSQL): every save seals its events in its own
    transaction (services/ledger/sealing_recorders.py); the sealer catches up what an older store
    holds unsealed."""
    app = SupervisionLedger(persistence(event_store), clock=clock)
    sealer = Sealer(app, SealedLog(event_store))  # creates the sealed log's table before the first save
    sealer.seal_pending()
    app.sealer = sealer
    app.recorder.mapper = app.mapper
    return app, sealer
