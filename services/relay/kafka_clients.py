"""How every Kafka client of the ledger (relay, projector, dead-letter producer) behaves when a
broker goes away and comes back.

kafka-python backs off reconnecting up to 30 s and lets a produced batch wait 120 s by default: a
fault round saw the relay's transactional producer sit ~2 minutes on a broker that was back after
15 s, and the projector behind it. Reconnect attempts are capped at 2 s apart, requests time out
after 15 s, and a batch that cannot be delivered in 30 s fails — the relay then exits, its
supervisor restarts it, and the new producer fences the old one and resumes from the topic.
"""

from collections.abc import Sequence

from kafka import KafkaProducer
from kafka.errors import KafkaError, KafkaTimeoutError
from kafka.producer.future import FutureRecordMetadata

RECONNECT = {"reconnect_backoff_max_ms": 2000, "request_timeout_ms": 15000}
PRODUCER = RECONNECT | {"delivery_timeout_ms": 30000}
COMMIT_TIMEOUT_MS = 45000


class SendFailed(KafkaError):
    """A record of the open transaction was not acknowledged by the broker: the transaction must
    not be committed."""


def unacknowledged(producer: KafkaProducer, sent: Sequence[FutureRecordMetadata], timeout_s: float) -> list[int]:
    """Flush ``producer``, then the positions in ``sent`` of the records the broker did not
    acknowledge (failed, or still unanswered after ``timeout_s``).

    kafka-python 3.0 fails a batch that expired (``delivery_timeout_ms``) only through its records'
    futures: nothing else says so — not ``flush``, and not ``commit_transaction``, which commits the
    records that did arrive (a broker down past the delivery timeout while the relay had a batch
    open left one event out of the topic for good: tests/integration/test_relay_broker_crash.py).
    Java's client refuses to commit such a transaction; every caller that must not take a record as
    sent asks this first."""
    producer.flush(timeout=timeout_s)
    return [n for n, future in enumerate(sent) if not future.succeeded()]


def acknowledged_or_raise(producer: KafkaProducer, sent: Sequence[FutureRecordMetadata], records: Sequence) -> None:
    """Wait until every record sent in the open transaction is acknowledged, or raise SendFailed
    naming the first seq that was not. The relay exits on it and its successor fences this
    producer, aborting the transaction, and sends the events again from the topic's tail."""
    if failed := unacknowledged(producer, sent, (PRODUCER["delivery_timeout_ms"] + PRODUCER["request_timeout_ms"]) / 1000):
        n = failed[0]
        raise SendFailed(f"{len(failed)} of {len(sent)} records of the transaction were not acknowledged "
                         f"(first: seq {records[n][0]}: {sent[n].exception!r}); not committing it")


def commit_transaction(producer: KafkaProducer, timeout_ms: int = COMMIT_TIMEOUT_MS) -> None:
    """``producer.commit_transaction()`` with a deadline. kafka-python 3.0's waits without one: a
    fault test saw the relay's producer keep asking a transaction coordinator on a killed broker
    for minutes, never looking the coordinator up again. After ``timeout_ms`` this raises, the relay
    exits, its supervisor restarts it, and the new producer finds the coordinator anew (its
    ``init_transactions`` aborts the open transaction; nothing of it was visible to readers).
    Follows ``KafkaProducer.commit_transaction`` of the pinned version, with the wait bounded."""
    manager = producer._transaction_manager  # noqa: SLF001  (no public way to bound the wait)
    result = manager.begin_commit()
    producer._sender.wakeup()  # noqa: SLF001
    if not result.wait(timeout_ms=timeout_ms):
        raise KafkaTimeoutError(f"the transaction was not committed within {timeout_ms} ms")
