"""The base of every ledger aggregate, and what every ledger event records besides the library's
id, version and timestamp.

An aggregate is a record of one kind declared in events/ (``KIND``): its state is the record the
declaration's ``advance`` makes of its events — the same function the record-state projection and
the auditors' replays run — and its state fields read as attributes (``hazard.status``). Two event
classes serve every kind: ``Created`` for the step that creates a record and ``Decided`` for every
later one; each names its catalogue type in ``event_type``. ``unsealed_envelope`` turns a stored
event into the envelope the sealer chains; it is the only place that mapping exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from events.catalogue import CATALOGUE, EventType
from events.record_kinds import AMENDMENTS, RETRACTED, Record, RecordKind, Step, advance
from services.domain.errors import Conflict, RuleViolation


@dataclass(frozen=True)
class Recorded:
    aggregate_type: str  # the record kind
    event_type: str
    event_id: str
    occurred_at: str
    actor: dict[str, str]
    basis: dict[str, str]
    rule_version: str
    command_id: str | None
    request_digest: str | None
    payload: dict[str, Any]

    @property
    def EVENT_TYPE(self) -> EventType:  # noqa: N802  (the catalogue's declaration of this event)
        return CATALOGUE[self.event_type]

    def apply(self, aggregate: Any) -> None:
        aggregate.take(self)

    def institution_id(self) -> str | None:
        if self.payload.get("institution_id"):
            return self.payload["institution_id"]
        if self.aggregate_type == "Institution":
            return str(self.originator_id)  # type: ignore[attr-defined]
        return None

    def unsealed_envelope(self) -> dict[str, Any]:
        event_type = self.EVENT_TYPE
        return {
            "event_id": self.event_id,
            "event_type": event_type.name,
            "schema_version": event_type.version,
            "aggregate_type": self.aggregate_type,
            "aggregate_id": str(self.originator_id),  # type: ignore[attr-defined]
            "aggregate_version": self.originator_version,  # type: ignore[attr-defined]
            "institution_id": self.institution_id(),
            "occurred_at": self.occurred_at,
            "recorded_at": self.timestamp.isoformat(),  # type: ignore[attr-defined]
            "actor": self.actor,
            "basis": self.basis,
            "rule_version": self.rule_version,
            "command_id": self.command_id,
            "request_digest": self.request_digest,
            "payload": self.payload,
        }


class LedgerAggregate(Aggregate):
    """A record of one kind. It remembers the idempotency keys it has acted on (each with the
    digest of its request) in ``commands``; everything else is ``record``, made by ``advance``."""

    KIND: ClassVar[RecordKind]

    class Created(Recorded, Aggregate.Created):
        """The decision that creates a record."""

    class Decided(Recorded, Aggregate.Event):
        """Every later decision, corrections and retractions included."""

    def __getattr__(self, name: str) -> Any:
        # Called only when normal lookup fails: the record's state fields read as attributes.
        state = self.__dict__.get("record", {}).get("state", {})
        if name in state:
            return state[name]
        raise AttributeError(f"{type(self).__name__} has no {name}")

    @property
    def kind(self) -> RecordKind:
        return self.KIND

    def take(self, event: Recorded) -> None:
        if "record" not in self.__dict__:
            self.commands: dict[str, str] = {}
            self.record: Record | None = None
        if event.command_id:
            self.commands[event.command_id] = event.request_digest or ""
        self.record = advance(self.record, event.unsealed_envelope())

    # --- recording ------------------------------------------------------------------------------

    @classmethod
    def create(cls, id: UUID, event_type: str, **record: Any) -> LedgerAggregate:
        return cls._create(LedgerAggregate.Created, id=id, aggregate_type=cls.KIND.name, event_type=event_type, **record)

    def decide(self, event_type: str, **record: Any) -> None:
        """Record a later decision; a step the record's state does not allow is refused."""
        self.require_step(None if event_type in AMENDMENTS else self.kind.step(event_type, creates=False))
        self.trigger_event(LedgerAggregate.Decided, aggregate_type=self.kind.name, event_type=event_type, **record)

    def require_step(self, step: Step | None) -> None:
        """The states the step may follow, as its kind declares them (None: a correction or a
        retraction, which any record not itself retracted takes)."""
        if self.status == RETRACTED:
            raise Conflict("RECORD_RETRACTED", f"该{self.kind.title_zh}记录已被撤销", "this record was retracted")
        if step is not None and self.status not in step.after:
            allowed = "、".join(f"“{self.kind.state_name(s)}”" for s in step.after)
            raise Conflict(
                self.kind.refusal_code,
                f"{self.kind.title_zh}当前状态为“{self.kind.state_name(self.status)}”，不能{step.title_zh}（仅在{allowed}时可以）",
                f"the {self.kind.name} is {self.status}; {step.name} is allowed only when {', '.join(step.after)}",
                status=self.status, allowed=list(step.after),
            )

    def require_in_date_order(self, day: str, step: Step, *, replacing: str | None = None) -> None:
        """A decision is not dated before the decision it follows — the latest one on this record
        that brought it into a new state (decisions beside the main line, a publication or a change
        filing, bring it into none). A correction moving a decision (``replacing`` its event id) to
        ``day`` keeps it after the one it followed and before every decision taken in the state it
        brought about (up to the next one that changed the state). Steps the scheduler records when
        a date passes (overdue, expired, lapsed) do not count — a rectification done before its
        deadline may be recorded after the overdue mark — nor do steps dated by an outside fact (a
        legal-person registration that may predate the filing)."""
        if step.external_date:
            return
        entries, state = [], {}
        for i, decision in enumerate(self.decisions):
            taken = self.kind.step(decision["event_type"], creates=i == 0)
            after = taken.evolve(state, decision)
            milestone = i == 0 or after.get("status") != state.get("status")
            if taken.falls_due is None and not taken.external_date:
                entries.append((decision, milestone))
            state = after
        at = next((i for i, (d, _) in enumerate(entries) if d["event_id"] == replacing), None) if replacing else None
        before = [d for d, milestone in (entries[:at] if at is not None else entries) if milestone]
        later: list[dict[str, Any]] = []
        for d, milestone in entries[at + 1:] if at is not None else []:
            later.append(d)
            if milestone:
                break
        day = day[:10]
        if before and day < before[-1]["occurred_at"][:10]:
            raise self._out_of_order(step, day, before[-1], later=False)
        first_later = min(later, key=lambda d: d["occurred_at"][:10], default=None)
        if first_later is not None and day > first_later["occurred_at"][:10]:
            raise self._out_of_order(step, day, first_later, later=True)

    def _out_of_order(self, step: Step, day: str, neighbour: dict[str, Any], *, later: bool) -> RuleViolation:
        other = self.kind.step(neighbour["event_type"])
        when = neighbour["occurred_at"][:10]
        return RuleViolation(
            "DATE_ORDER_INVALID",
            f"“{step.title_zh}”的日期 {day} 不能{'晚于' if later else '早于'}该{self.kind.title_zh}记录上"
            f"{'其后' if later else '此前'}的“{other.title_zh}”（{when}）",
            f"{step.name} dated {day} may not be {'after' if later else 'before'} the record's {other.name} of {when}",
            date=day, neighbour_event_id=neighbour["event_id"], neighbour_event_type=neighbour["event_type"], neighbour_date=when,
        )

    # --- what the rules read ----------------------------------------------------------------------

    @property
    def decisions(self) -> list[dict[str, Any]]:
        """The decisions still standing on this record, oldest first, each as corrected."""
        return self.record["decisions"]

    def standing_decision(self, event_id: str) -> tuple[str, str] | None:
        """(event type, deciding department) of a decision still standing on this record."""
        for entry in self.decisions:
            if entry["event_id"] == event_id:
                return entry["event_type"], entry["actor"]["department"]
        return None

    def already_did(self, command_id: str | None, digest: str) -> bool:
        """True if this exact request was already acted on; a key reused for another request is
        a conflict."""
        if command_id is None or command_id not in getattr(self, "commands", {}):
            return False
        if self.commands[command_id] != digest:
            raise key_reused()
        return True


def key_reused() -> Conflict:
    return Conflict(
        "IDEMPOTENCY_KEY_REUSED",
        "该幂等键（Idempotency-Key）已用于内容不同的请求，请为新请求使用新的幂等键",
        "this Idempotency-Key was already used for a different request; use a new key",
    )

