"""The transport adapters of the read side: the feeds projections read sealed envelopes from, in
seq order, and the dead-letter sink of the Kafka feed (the ports are ``projections/feed.py`` and
``projections/dead_letters.py``).

- ``SealedLogFeed`` (embedded): the sealed log table beside the event store.
- ``KafkaFeed`` (cluster): the ledger topic, read_committed, one partition in seq order.
- ``KafkaDeadLetters``: poison messages copied to ``<topic>.dead-letter`` with why, each one an
  ERROR line on the ``eldercare.alerts`` logger.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

from events.canonical import loads
from events.envelope import ChainBroken
from projections.dead_letters import Rejected, dead_letter_topic
from projections.feed import FeedBatch, check_envelope
from services.ledger.sealed_log import SealedLog
from services.relay.kafka_clients import PRODUCER, RECONNECT, SendFailed, unacknowledged

alerts = logging.getLogger("eldercare.alerts")


class SealedLogFeed:
    name = "sealed-log"  # its cursor: the seq after which to read

    def __init__(self, log: SealedLog) -> None:
        self.log = log

    def read(self, cursor: int, limit: int) -> FeedBatch:
        records = self.log.read(after_seq=cursor, limit=limit)
        envelopes = [record.envelope for record in records]
        for envelope in envelopes:
            check_envelope(envelope)
        return FeedBatch(envelopes, envelopes[-1]["seq"] if envelopes else cursor)

    def iterate(self, cursor: int = 0, *, positioned: bool = False) -> Iterator[Any]:
        while batch := self.read(cursor, 5000).envelopes:
            yield from ((e, e["seq"] - 1) for e in batch) if positioned else batch
            cursor = batch[-1]["seq"]

    def close(self) -> None:
        self.log.close()


class KafkaFeed:
    """Reads the ledger topic's single partition with read_committed isolation."""

    def __init__(self, bootstrap: str, topic: str, *, poll_timeout_ms: int = 500) -> None:
        from kafka import KafkaConsumer, TopicPartition

        self.topic = topic
        self.name = f"kafka:{topic}"  # its cursor: the offset to read from
        self.partition = TopicPartition(topic, 0)
        self.consumer = KafkaConsumer(
            bootstrap_servers=bootstrap,
            isolation_level="read_committed",
            enable_auto_commit=False,
            group_id=None,
            auto_offset_reset="earliest",
            # A projector's batch (5,000 envelopes of ~1 KB) in one or two fetches, not five.
            max_poll_records=5000,
            max_partition_fetch_bytes=8 * 1024 * 1024,
            **RECONNECT,
        )
        self.consumer.assign([self.partition])
        self.poll_timeout_ms = poll_timeout_ms
        self._position: int | None = None

    def read(self, cursor: int, limit: int) -> FeedBatch:
        if self._position != cursor:
            self.consumer.seek(self.partition, cursor)
            self._position = cursor
        records = self.consumer.poll(timeout_ms=self.poll_timeout_ms, max_records=limit).get(self.partition, [])
        envelopes, rejected, offsets = [], [], []
        for record in records:
            try:
                envelope = loads(record.value)
                seq = envelope["seq"] if isinstance(envelope, dict) and isinstance(envelope.get("seq"), int) else None
                if seq is None:
                    raise ValueError("not a ledger envelope (no seq)")
                check_envelope(envelope)
            except ChainBroken as broken:
                rejected.append(Rejected(record.offset, record.key, record.value, f"altered: {broken.reason}", broken.seq))
                continue
            except (ValueError, KeyError, TypeError) as unreadable:
                rejected.append(Rejected(record.offset, record.key, record.value, f"unreadable: {unreadable}"[:300]))
                continue
            envelopes.append(envelope)
            offsets.append(record.offset)
        # The consumer's position also moves past transaction markers and aborted batches, which
        # take offsets but are never delivered; the last record's offset + 1 would stop short.
        self._position = self.consumer.position(self.partition)
        return FeedBatch(envelopes, self._position, rejected, offsets)

    def end_offset(self) -> int:
        """The last stable offset: everything before it is committed or aborted, never pending."""
        return self.consumer.end_offsets([self.partition])[self.partition]

    def iterate(self, cursor: int = 0, *, stall_timeout_s: float = 60.0, positioned: bool = False) -> Iterator[Any]:
        end = self.end_offset()
        last_progress = time.monotonic()
        while cursor < end:
            batch = self.read(cursor, 5000)
            if batch.rejected:  # a reader that wants the ledger whole (replay, reconciliation) stops here
                first = batch.rejected[0]
                before = [(e, offset) for e, offset in zip(batch.envelopes, batch.offsets, strict=True) if offset < first.offset]
                yield from before if positioned else (e for e, _ in before)
                raise ChainBroken(first.seq if first.seq is not None else (before[-1][0]["seq"] + 1 if before else 0),
                                  f"offset {first.offset}: {first.reason}")
            yield from zip(batch.envelopes, batch.offsets, strict=True) if positioned else batch.envelopes
            if batch.cursor > cursor:
                last_progress = time.monotonic()
            elif time.monotonic() - last_progress > stall_timeout_s:
                raise TimeoutError(f"{self.topic}: no progress past offset {cursor} (end {end})")
            cursor = batch.cursor

    def close(self) -> None:
        self.consumer.close()


class KafkaDeadLetters:
    def __init__(self, bootstrap: str, topic: str) -> None:
        from kafka import KafkaProducer

        self.source = topic
        self.topic = dead_letter_topic(topic)
        self.producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, **PRODUCER)
        self.sent: list = []  # since the last flush

    def send(self, value: bytes, *, key: bytes | None, reason: str, offset: int | None, seq: int | None) -> None:
        headers = [("reason", reason.encode()), ("source-topic", self.source.encode()),
                   ("source-offset", str(offset).encode()), ("seq", str(seq).encode())]
        self.sent.append(self.producer.send(self.topic, value=value, key=key, headers=headers))
        alerts.error(json.dumps({"alert": "poison_message", "topic": self.source, "offset": offset, "seq": seq,
                                 "reason": reason, "dead_letter_topic": self.topic}, ensure_ascii=False))

    def flush(self) -> None:
        """Every dead letter sent since the last flush is acknowledged, or this raises (and the
        projector's cursor stays before them: a batch that expired fails only its future)."""
        sent = self.sent
        failed = unacknowledged(self.producer, sent, timeout_s=30)
        self.sent = []
        if failed:
            raise SendFailed(f"{len(failed)} of {len(sent)} dead letters were not acknowledged: {sent[failed[0]].exception!r}")

    def close(self) -> None:
        self.producer.close(timeout=30)
