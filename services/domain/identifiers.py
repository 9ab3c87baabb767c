"""Identifiers that may name one record only: unified social credit codes and filing receipt
numbers (an institution), penalty decision numbers (a case). A claim is an aggregate whose id
derives from the identifier, so the event store's own uniqueness (one version 1 per aggregate id)
forbids a second record from taking it.
"""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from events.registration import IDENTIFIER_CLAIMED
from services.domain.recorded import LedgerAggregate, Recorded

NAMESPACE = uuid5(NAMESPACE_URL, "https://eldercare-ledger.example.gov.cn/identifiers")


class IdentifierClaim(LedgerAggregate):
    """State: ``holder``, the id of the record holding the identifier, and its ``institution``."""

    class Claimed(Recorded, Aggregate.Created):
        EVENT_TYPE = IDENTIFIER_CLAIMED

        def evolve(self, claim: IdentifierClaim) -> None:
            claim.institution = self.payload["institution_id"]
            claim.holder = self.payload["holder_id"]

    @staticmethod
    def id_for(kind: str, value: str) -> UUID:
        return uuid5(NAMESPACE, f"{kind}:{value}")

    @classmethod
    def claim(cls, kind: str, value: str, institution_id: str, holder_id: UUID, **record: Any) -> IdentifierClaim:
        payload = {"kind": kind, "value": value, "institution_id": str(institution_id), "holder_id": str(holder_id)}
        return cls._create(cls.Claimed, id=cls.id_for(kind, value), payload=payload, **record)
