"""Identifiers that may name one record only: unified social credit codes and filing receipt
numbers (an institution), penalty decision numbers (a case). A claim is an aggregate whose id
derives from the identifier, so the event store's own uniqueness (one version 1 per aggregate id)
forbids a second record from taking it.
"""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from events.registration import IDENTIFIER_CLAIM, IDENTIFIER_CLAIMED
from services.domain.recorded import LedgerAggregate

NAMESPACE = uuid5(NAMESPACE_URL, "https://eldercare-ledger.example.gov.cn/identifiers")


class IdentifierClaim(LedgerAggregate):
    """State: ``holder``, the id of the record holding the identifier, and its ``institution``."""

    KIND = IDENTIFIER_CLAIM

    @staticmethod
    def id_for(kind: str, value: str) -> UUID:
        return uuid5(NAMESPACE, f"{kind}:{value}")

    @classmethod
    def claim(cls, kind: str, value: str, institution_id: str, holder_id: UUID, **record: Any) -> LedgerAggregate:
        payload = {"kind": kind, "value": value, "institution_id": str(institution_id), "holder_id": str(holder_id)}
        return cls.create(cls.id_for(kind, value), IDENTIFIER_CLAIMED.name, payload=payload, **record)
