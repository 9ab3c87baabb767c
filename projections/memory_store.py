"""The projection held in memory: the SearchIndex port's documents, record states and position as
dicts, for what folds the ledger on the spot with the projector's own code — an auditor's replay
as of a seq, reconciliation's expected index. It answers the record-state queries; it is no search
backend (no text search)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from events.envelope import GENESIS_HASH
from projections.record_states import StateQuery, select


class MemoryIndex:
    def __init__(self) -> None:
        self.institutions: dict[str, dict[str, Any]] = {}
        self.records: dict[str, dict[str, Any]] = {}
        self.record_states: dict[str, dict[str, Any]] = {}
        self._position: dict[str, Any] = {"seq": 0, "cursor": 0, "hash": GENESIS_HASH}

    def get(self, institution_id: str) -> dict[str, Any] | None:
        return self.institutions.get(institution_id)

    def get_many(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        return {i: self.institutions[i] for i in ids if i in self.institutions}

    def get_records(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        return {i: self.records[i] for i in ids if i in self.records}

    def get_states(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        return {i: self.record_states[i] for i in ids if i in self.record_states}

    def states(self, query: StateQuery) -> Iterator[dict[str, Any]]:
        return select(self.record_states.values(), query)

    def position(self) -> dict[str, Any]:
        return self._position

    def upsert(self, documents: list[dict[str, Any]], position: dict[str, Any] | None, records: list[dict[str, Any]] = (),
               states: list[dict[str, Any]] = ()) -> None:
        self.institutions.update({d["id"]: d for d in documents})
        self.records.update({r["id"]: r for r in records})
        self.record_states.update({s["id"]: s for s in states})
        if position is not None:
            self._position = position

    def documents(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        for kind, held in (("institution", self.institutions), ("record", self.records), ("state", self.record_states)):
            for doc_id in sorted(held):
                yield kind, doc_id, held[doc_id]

    def close(self) -> None:
        pass
