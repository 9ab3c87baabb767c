"""A record the broker did not acknowledge is never taken as sent: the relay does not commit a
transaction with one (kafka-python would commit the rest), and the dead-letter producer's flush
raises, so the projector's cursor stays before it. The broker outage itself is in
tests/integration/test_relay_broker_crash.py."""

from __future__ import annotations

import pytest
from kafka.errors import KafkaTimeoutError
from kafka.future import Future

from services.feeds import KafkaDeadLetters
from services.relay.kafka_clients import SendFailed, acknowledged_or_raise


def done(exception: Exception | None = None) -> Future:
    future = Future()
    if exception is None:
        future.success("metadata")
    else:
        future.failure(exception)
    return future


class Producer:
    """Sends answer with the futures given, in order; flush is counted."""

    def __init__(self, futures: list[Future]) -> None:
        self.futures = iter(futures)
        self.flushes = 0

    def send(self, *args, **kwargs) -> Future:
        return next(self.futures)

    def flush(self, timeout=None) -> None:
        self.flushes += 1


RECORDS = [(seq, "inst", "InstitutionDiscovered", f"h{seq}", b"{}") for seq in (7, 8, 9)]


def test_every_record_acknowledged_passes_after_a_flush():
    producer = Producer([])
    acknowledged_or_raise(producer, [done(), done(), done()], RECORDS)
    assert producer.flushes == 1


def test_one_expired_record_refuses_the_commit_and_names_its_seq():
    producer = Producer([])
    expired = KafkaTimeoutError("Expiring 1 record(s) for ledger-0: 30000 ms has passed since batch creation")
    with pytest.raises(SendFailed, match=r"1 of 3 records .* seq 8: .*Expiring 1 record"):
        acknowledged_or_raise(producer, [done(), done(expired), done()], RECORDS)


def test_a_record_still_unanswered_after_the_flush_is_not_taken_as_sent():
    with pytest.raises(SendFailed, match="1 of 3"):
        acknowledged_or_raise(Producer([]), [done(), done(), Future()], RECORDS)


def dead_letters(futures: list[Future]) -> KafkaDeadLetters:
    letters = KafkaDeadLetters.__new__(KafkaDeadLetters)
    letters.source, letters.topic, letters.sent = "ledger", "ledger.dead-letter", []
    letters.producer = Producer(futures)
    return letters


def test_a_dead_letter_not_acknowledged_fails_the_flush_once():
    letters = dead_letters([done(), done(KafkaTimeoutError("Expiring 1 record(s)")), done()])
    for offset in (1, 2):
        letters.send(b"poison", key=None, reason="not JSON", offset=offset, seq=None)
    with pytest.raises(SendFailed, match="1 of 2 dead letters"):
        letters.flush()
    letters.send(b"poison", key=None, reason="not JSON", offset=3, seq=None)
    letters.flush()  # the failed one is not held against the next flush
