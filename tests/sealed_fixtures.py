"""A sealed log of synthetic events, for tests of what is built over the log (tree, audit)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from events.envelope import GENESIS_HASH, UNSEALED_FIELDS, seal
from services.ledger.sealed_log import EMPTY_HEAD, SealedLog

START = datetime(2026, 1, 5, 1, 0, tzinfo=timezone.utc)


def synthetic_envelopes(count: int, *, first_seq: int = 1, prev_hash: str = GENESIS_HASH) -> list[dict]:
    sealed = []
    for seq in range(first_seq, first_seq + count):
        body = {f: None for f in UNSEALED_FIELDS}
        moment = (START + timedelta(minutes=seq)).isoformat()
        body.update(
            event_id=f"e{seq}", event_type="InstitutionChangeFiled", aggregate_type="Institution",
            aggregate_id=f"inst-{seq % 7}-{seq}", aggregate_version=1, institution_id=f"inst-{seq % 7}",
            occurred_at=moment, recorded_at=moment, payload={"seq_note": seq},
        )
        envelope = seal(body, seq, prev_hash)
        prev_hash = envelope["hash"]
        sealed.append(envelope)
    return sealed


def sealed_log_with(path: Path, count: int) -> SealedLog:
    log = SealedLog(path)
    head = EMPTY_HEAD
    envelopes = synthetic_envelopes(count)
    for start in range(0, count, 500):
        head = log.append(head, [(e["seq"], e) for e in envelopes[start:start + 500]])
    return log
