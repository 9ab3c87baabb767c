"""Record kinds: each kind of record the ledger keeps (an institution, a hazard, a sanction case, …)
declared once — its steps (the events it records), how each changes the record's state, the states
each may follow, and which state fields are public.

Everything that knows a record's state derives it from these declarations: the aggregates of the
write side (services/domain), the command pipeline's check of the states a step may follow, the
record-state projection every read model queries (projections/record_states.py), and the
auditors' replays. ``advance`` is the one function that takes a record from one event to the
next — corrections and retractions included:

- a record's *standing decisions* are its events still in force, each with its payload as
  corrected; its state is the fold of their steps, in ledger order;
- a correction (``DecisionCorrected``) patches the fields it names into the decision it names and
  the state is folded again; a retraction (``DecisionRetracted``) takes the decision out of the
  standing ones (into ``retracted``) and the state is folded again; retracting the first decision
  retracts the record itself (status ``retracted``).

A record is a plain JSON value, so the same dict is an aggregate's state, a row of the projection
and an auditor's replay. Steps that fall due with time (an order's deadline passing, a term ending)
say when (``falls_due``): the scheduler records them, and ``state_on`` applies them to say what the
state was on a given day even when the scheduler ran later.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from events.catalogue import CATALOGUE, EventType, Field

State = dict[str, Any]
Entry = dict[str, Any]  # one decision as recorded: the envelope's members less its seal
Record = dict[str, Any]

CORRECTED, RETRACTED_EVENT = "DecisionCorrected", "DecisionRetracted"
AMENDMENTS = (CORRECTED, RETRACTED_EVENT)
RETRACTED = "retracted"
RETRACTED_NAME = "已撤销"
ENTRY_MEMBERS = ("event_id", "event_type", "seq", "occurred_at", "recorded_at", "actor", "basis", "rule_version", "payload")


@dataclass(frozen=True)
class Step:
    """One event a record may record: what it does to the state and when it may happen.

    ``after``: the states it may follow (empty for the step that creates the record);
    ``to``: the status it leads to (None: unchanged), unless ``sets`` returns a status of its own;
    ``sets``: the other state fields it sets, from the state before it and the decision;
    ``computed``: payload fields the ledger computes, never in a request (nor ever corrected);
    ``falls_due``: for a step recorded when a date passes, the date (YYYY-MM-DD) after which it
    falls due in a given state, or None when it does not;
    ``external_date``: the step is dated by an outside fact (a legal-person registration), so the
    order of dates does not bind it;
    ``imported``: the step records a decision made before the ledger, from an imported register,
    and nothing else may take it.
    """

    event_type: EventType
    title_zh: str
    after: tuple[str, ...] = ()
    to: str | None = None
    sets: Callable[[State, Entry], State] | None = None
    computed: tuple[str, ...] = ()
    falls_due: Callable[[State], str | None] | None = None
    external_date: bool = False  # dated by an outside fact (it may predate the decisions before it)
    imported: bool = False  # only an import of a decision made before the ledger takes this step

    @property
    def creates(self) -> bool:
        return not self.after

    @property
    def name(self) -> str:
        return self.event_type.name

    def evolve(self, state: State, entry: Entry) -> State:
        new = dict(state)
        changes = self.sets(state, entry) if self.sets else {}
        new.update(changes)
        if self.to is not None and "status" not in changes:
            new["status"] = self.to
        return new


@dataclass(frozen=True)
class RecordKind:
    """A kind of record. ``fields`` declares the state's fields (besides ``status``) with the
    catalogue's public marks: the public view of a state holds only those marked public."""

    name: str
    title_zh: str
    states: dict[str, str]  # status -> its Chinese name
    steps: tuple[Step, ...]
    fields: tuple[Field, ...]
    refusal_code: str  # the code a step out of order is refused with
    bookkeeping: bool = False  # not a supervision record (identifier claims): no read model shows it
    region_of: Callable[[State], str | None] = lambda state: state.get("region_code")
    institution_of: Callable[[Record], str | None] = lambda record: record["state"].get("institution_id")
    # The day the record stopped concerning current lists (a hazard closed), or None while it does.
    ends: Callable[[State], str | None] = lambda state: None
    # When set: the departments (named by the state) that alone read the state's restricted fields,
    # the supervising department only if it is one of them; auditors always do.
    readers: Callable[[State], Iterable[str] | None] | None = None
    # While this holds of the state, no one but the ``readers`` (and auditors) sees the record at all.
    confidential: Callable[[State], bool] = lambda state: False
    _by_type: dict[tuple[str, bool], Step] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for step in self.steps:
            if (step.name, step.creates) in self._by_type:
                raise ValueError(f"{self.name}: step {step.name} declared twice")
            if step.event_type.aggregate_type != self.name:
                raise ValueError(f"{self.name}: {step.name} belongs to {step.event_type.aggregate_type}")
            for state in step.after + ((step.to,) if step.to else ()):
                if state not in self.states:
                    raise ValueError(f"{self.name}.{step.name}: unknown state {state}")
            self._by_type[(step.name, step.creates)] = step

    def step(self, event_type: str, *, creates: bool | None = None) -> Step:
        """The step recording ``event_type`` (the creating one, or the following one, if asked)."""
        if creates is not None and (event_type, creates) in self._by_type:
            return self._by_type[(event_type, creates)]
        for creating in (False, True):
            if (event_type, creating) in self._by_type:
                return self._by_type[(event_type, creating)]
        raise KeyError(f"{self.name} records no {event_type}")

    def fold(self, decisions: Iterable[Entry]) -> State:
        state: State = {}
        for i, decision in enumerate(decisions):
            state = self.step(decision["event_type"], creates=i == 0).evolve(state, decision)
        return state

    def state_name(self, status: str) -> str:
        return RETRACTED_NAME if status == RETRACTED else self.states.get(status, status)

    def timed_steps(self) -> list[Step]:
        return [s for s in self.steps if s.falls_due is not None]


KINDS: dict[str, RecordKind] = {}


def declare(kind: RecordKind) -> RecordKind:
    if kind.name in KINDS:
        raise ValueError(f"record kind {kind.name} declared twice")
    KINDS[kind.name] = kind
    return kind


def kind_of(record: Record) -> RecordKind:
    return KINDS[record["kind"]]


def payload(entry: Entry) -> dict[str, Any]:
    return entry["payload"]


def department(entry: Entry) -> str:
    return entry["actor"]["department"]


# --- the one function ---------------------------------------------------------------------------


def entry_of(envelope: Mapping[str, Any]) -> Entry:
    return {k: envelope[k] for k in ENTRY_MEMBERS if k in envelope}


def as_corrected(original: dict[str, Any], corrected: dict[str, Any], event_type: EventType) -> dict[str, Any]:
    """The payload as corrected: named fields replace the original's; an object's members merge."""
    out = dict(original)
    for name, value in corrected.items():
        spec = next((f for f in event_type.fields if f.name == name), None)
        if spec is not None and spec.kind == "object" and isinstance(value, dict) and isinstance(out.get(name), dict):
            out[name] = {**out[name], **value}
        else:
            out[name] = value
    return out


def redated(original: Entry, corrected: dict[str, Any]) -> str:
    """The date a decision counts from once ``corrected``: a decision is dated by the date it
    states (its ``…_on`` field equal to its date — identified_on, ordered_on, decided_on, …); a
    correction of that field moves the decision to the corrected day, in every list and every
    as-of view. Deadlines (``deadline``, ``…_by``, ``…_until``) never date a decision."""
    day = original["occurred_at"][:10]
    fields = {f.name: f for f in CATALOGUE[original["event_type"]].fields}
    for name, value in corrected.items():
        spec = fields.get(name)
        if spec is not None and spec.kind == "date" and name.endswith("_on") and original["payload"].get(name) == day:
            return value if len(original["occurred_at"]) == 10 else value + original["occurred_at"][10:]
    return original["occurred_at"]


def advance(record: Record | None, envelope: Mapping[str, Any]) -> Record:
    """The record after ``envelope`` (an event on it, as sealed or as about to be). Never mutates
    ``record``. The caller skips events the record already holds."""
    kind = KINDS[envelope["aggregate_type"]]
    entry = entry_of(envelope)
    event_type = envelope["event_type"]
    if record is None:
        decisions = [entry]
        return _with(kind, {"id": str(envelope["aggregate_id"]), "kind": kind.name, "decisions": [], "amendments": [],
                            "retracted": []}, decisions, kind.fold(decisions), envelope)
    decisions = list(record["decisions"])
    if event_type in AMENDMENTS:
        named = entry["payload"]["original_event_id"]
        at = next((i for i, d in enumerate(decisions) if d["event_id"] == named), None)
        amended = dict(record, amendments=[*record["amendments"], entry])
        if at is None:  # names no standing decision: nothing to apply (the write side refuses this)
            return _with(kind, amended, decisions, record["state"], envelope)
        original = decisions[at]
        if event_type == CORRECTED:
            fields = entry["payload"]["corrected"]
            decisions[at] = dict(original, payload=as_corrected(original["payload"], fields, CATALOGUE[original["event_type"]]),
                                 occurred_at=redated(original, fields), corrected_by=[*original.get("corrected_by", []), entry["event_id"]])
        else:
            del decisions[at]
            amended["retracted"] = [*record["retracted"], dict(original, retracted_by=entry["event_id"])]
        state = kind.fold(decisions) if decisions else dict(record["state"], status=RETRACTED)
        return _with(kind, amended, decisions, state, envelope)
    step = kind.step(event_type, creates=False)
    decisions.append(entry)
    return _with(kind, record, decisions, step.evolve(record["state"], entry), envelope)


def _with(kind: RecordKind, record: Record, decisions: list[Entry], state: State, envelope: Mapping[str, Any]) -> Record:
    out = dict(record, decisions=decisions, state=state, version=envelope.get("aggregate_version"))
    if "seq" in envelope:  # sealed: the ledger position of the last event that changed the record
        out.update(seq=envelope["seq"], hash=envelope["hash"], recorded_at=envelope["recorded_at"])
    out["institution_id"] = kind.institution_of(out)
    out["region_code"] = kind.region_of(state)
    out["opened_on"] = decisions[0]["occurred_at"][:10] if decisions else record.get("opened_on")
    out["ended_on"] = kind.ends(state)
    return out


# --- what the state was on a day ------------------------------------------------------------------


def state_on(record: Record, day: str) -> State | None:
    """The record's state on ``day`` (YYYY-MM-DD) as the ledger knows it now: its standing
    decisions taken on or before that day, then every time-driven step that had fallen due by then
    (a deadline passed on the 15th makes a hazard overdue on the 31st, whenever the scheduler
    recorded it). None if the record did not exist yet (or was retracted)."""
    kind = kind_of(record)
    decisions = [d for d in record["decisions"] if d["occurred_at"][:10] <= day]
    if not decisions or record["state"]["status"] == RETRACTED:
        return None
    state = kind.fold(decisions)
    return falls_due_by(kind, state, day)


def falls_due_by(kind: RecordKind, state: State, day: str) -> State:
    """``state`` after the time-driven steps that fell due before ``day``."""
    return falls_due_until(kind, state, day)[0]


NEVER = "9999-12-31"


def falls_due_until(kind: RecordKind, state: State, day: str) -> tuple[State, str]:
    """``state`` after the time-driven steps that fell due before ``day``, and the last day it
    stays so: ``falls_due_by`` gives the same state for every day from ``day`` to that one (no
    step open to any state on the way falls due in between)."""
    until = NEVER
    for _ in range(len(kind.steps)):
        due = None
        for step in kind.timed_steps():
            if state["status"] not in step.after:
                continue
            when = step.falls_due(state) or NEVER
            if when >= day:
                until = min(until, when)  # falls due on a day after ``when``
            elif due is None:
                due = step
        if due is None:
            return state, until
        state = due.evolve(state, {"payload": {}, "occurred_at": due.falls_due(state), "actor": {"department": "system"}})
    return state, day  # still stepping after every step: vouch for this day alone
