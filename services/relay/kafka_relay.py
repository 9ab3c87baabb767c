"""The relay: copies the sealed log to the Kafka ledger topic, each event exactly once in effect.

Each batch is one Kafka transaction, and the relay's position is *the topic itself*: on start it
fences any earlier relay (``init_transactions`` aborts its open transaction), then reads the last
committed envelope of the topic that is one of the ledger's own (anything else written there is
ignored) and continues from the next seq. A crash anywhere, even mid-batch,
leaves either a committed batch (and the restart continues after it) or an aborted one (invisible
to read_committed consumers, and sent again). The topic keeps events forever, one partition, so
its order is the ledger's order; the key is the institution id.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient
from kafka.errors import TopicAlreadyExistsError

from events.canonical import loads
from events.envelope import GENESIS_HASH, event_hash
from services.ledger.database import is_postgres
from services.ledger.sealed_log import SealedLog
from services.relay.kafka_clients import PRODUCER, RECONNECT, acknowledged_or_raise, commit_transaction
from services.settings import Replication

log = logging.getLogger("eldercare.relay")

TOPIC_CONFIG = {
    "retention.ms": "-1",  # the ledger is kept forever
    "retention.bytes": "-1",
    "cleanup.policy": "delete",
    "message.timestamp.type": "CreateTime",
}


class RelayDiverged(RuntimeError):
    """The topic holds more of the ledger's chain than the sealed log does."""


@dataclass(frozen=True)
class Published:
    seq: int
    hash: str


def ensure_topic(bootstrap: str, topic: str, replication: Replication | None = None) -> None:
    """Create the topic if it does not exist, with the configured copies (an existing topic keeps
    its own: changing them is Kafka's partition reassignment, an operator's step)."""
    replication = replication or Replication()
    configs = TOPIC_CONFIG | {"min.insync.replicas": str(replication.kafka_min_insync_replicas)}
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="eldercare-admin")
    try:
        admin.create_topics(
            {topic: {"num_partitions": 1, "replication_factor": replication.kafka_replication_factor, "configs": configs}},
            wait_for_metadata=True,
        )
        log.info("created topic %s (replication factor %d, min.insync.replicas %d)", topic,
                 replication.kafka_replication_factor, replication.kafka_min_insync_replicas)
    except TopicAlreadyExistsError:
        pass
    finally:
        admin.close()


def last_published(bootstrap: str, topic: str, recognise, *, start_offset: int | None = None, window: int = 1000,
                   timeout_s: float = 60.0) -> Published:
    """The newest of *our* committed envelopes on the topic: ``recognise(value)`` says whether a
    message is one of the ledger's events (a Published) or something else someone wrote there
    (None), so poison at the tail cannot move the relay. From ``start_offset`` (where the relay
    last committed) every message to the end is read and the highest seq taken — copies of older
    events cannot fool that; without it, windows are read back from the end until one holds ours."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, isolation_level="read_committed", enable_auto_commit=False, group_id=None, **RECONNECT
    )
    partition = TopicPartition(topic, 0)
    consumer.assign([partition])

    def ours_in(start: int, end: int) -> Published | None:
        consumer.seek(partition, start)
        best, deadline = None, time.monotonic() + timeout_s
        while consumer.position(partition) < end:
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read {topic} up to offset {end}")
            for record in consumer.poll(timeout_ms=500).get(partition, []):
                if record.offset < end and (found := recognise(record.value)) is not None:
                    if best is None or found.seq > best.seq:
                        best = found
        return best

    try:
        end = consumer.end_offsets([partition])[partition]
        if start_offset is not None and start_offset < end and (found := ours_in(start_offset, end)) is not None:
            return found
        while True:
            start = max(0, end - window)
            if (found := ours_in(start, end)) is not None:
                return found
            if start == 0:
                return Published(0, GENESIS_HASH)
            window *= 4
    finally:
        consumer.close()


def recogniser(sealed_log: SealedLog):
    """``value -> Published | None``: one of the ledger's own events (its seq and hash are the
    sealed log's), or something else someone wrote to the topic. One exception: a well-formed
    event that continues the sealed log's chain past its head (the next seq, chained to the head's
    hash) means the topic knows more of this ledger than the sealed log does — it was restored
    from an older copy, or something else relays it — and raises RelayDiverged."""
    head = sealed_log.head()

    def recognise(value: bytes) -> Published | None:
        try:
            envelope = loads(value)
            seq, digest = envelope["seq"], envelope["hash"]
        except (ValueError, KeyError, TypeError):
            return None
        if not isinstance(seq, int) or seq < 1:
            return None
        if seq <= head.seq:
            return Published(seq, digest) if sealed_log.hashes(seq - 1, 1) == [digest] else None
        if seq == head.seq + 1 and envelope.get("prev_hash") == head.hash and event_hash(envelope) == digest:
            raise RelayDiverged(f"the topic holds seq {seq}, chained to the sealed log's head (seq {head.seq}), "
                                "which the sealed log does not hold")
        return None

    return recognise


class RelayOffsets:
    """Where the relay notes the offset its last committed batch ended at, per topic, beside the
    sealed log."""

    def __init__(self, sealed_log: SealedLog) -> None:
        self.db = sealed_log.db
        self.db.create("CREATE TABLE IF NOT EXISTS relay_offsets (topic TEXT PRIMARY KEY, last_offset INTEGER NOT NULL)")

    def last(self, topic: str) -> int | None:
        row = self.db.row("SELECT last_offset FROM relay_offsets WHERE topic = ?", (topic,))
        return row[0] if row else None

    def note(self, topic: str, offset: int) -> None:
        self.db.rows(
            "INSERT INTO relay_offsets VALUES (?, ?) ON CONFLICT (topic) DO UPDATE SET last_offset = excluded.last_offset",
            (topic, offset),
        )


# One transaction per this many events, and the producer's own batching: records of one partition
# go to the broker in batches of up to BATCH_BYTES (a sealed envelope is 1-2 KB, so kafka-python's
# default of 16 KB made a request of ~10 records), waiting at most LINGER_MS for a batch to fill.
# The CRC32C of each batch is computed in C by the `crc32c` package (a dependency: kafka-python
# falls back to pure Python without it).
BATCH_EVENTS, BATCH_BYTES, LINGER_MS = 5000, 512 * 1024, 10


class KafkaRelay:
    def __init__(
        self, log_: SealedLog, bootstrap: str, topic: str, *, batch_size: int = BATCH_EVENTS,
        send_delay_s: float = 0.0, before_batch=None, replication: Replication | None = None,
    ) -> None:
        self.sealed_log = log_
        self.bootstrap = bootstrap
        self.topic = topic
        self.batch_size = batch_size
        self.send_delay_s = send_delay_s  # only for fault tests: widens the mid-batch window
        self.before_batch = before_batch  # e.g. the sealer, so events stored by a crashed API get sealed
        self.replication = replication or Replication()
        self.published = Published(0, GENESIS_HASH)
        self._offsets = RelayOffsets(log_)

    def _producer(self) -> KafkaProducer:
        producer = KafkaProducer(
            bootstrap_servers=self.bootstrap,
            transactional_id=f"eldercare-relay.{self.topic}",
            acks="all",
            linger_ms=LINGER_MS,
            batch_size=BATCH_BYTES,
            max_block_ms=60000,
            transaction_timeout_ms=60000,
            **PRODUCER,
        )
        producer.init_transactions()  # fences a previous relay and aborts its open transaction
        return producer

    def relay_batch(self, producer: KafkaProducer) -> int:
        if self.before_batch is not None:
            self.before_batch()
        records = self.sealed_log.read_for_relay(self.published.seq, self.batch_size)
        if not records:
            return 0
        producer.begin_transaction()
        sent = []
        for seq, key, event_type, hash_, envelope in records:
            sent.append(producer.send(
                self.topic, key=key.encode(), value=envelope, partition=0,
                headers=[("seq", str(seq).encode()), ("event_type", event_type.encode()), ("hash", hash_.encode())],
            ))
            if self.send_delay_s:
                producer.flush()
                time.sleep(self.send_delay_s)
        acknowledged_or_raise(producer, sent, records)
        commit_transaction(producer)
        last_seq, _, _, last_hash, _ = records[-1]
        self.published = Published(last_seq, last_hash)
        # Where this batch ended, so a restart reads from here (a hint: a crash before this write
        # only makes the restart read a little more).
        self._offsets.note(self.topic, sent[-1].get(timeout=60).offset)
        return len(records)

    def _idle(self, stop: threading.Event, idle_s: float) -> None:
        """Wait for more to relay: on PostgreSQL until an append commits (woken by its notice, checking
        ``stop`` every tenth of a second) or ``idle_s`` passes; elsewhere ``idle_s``."""
        deadline = time.monotonic() + idle_s
        while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
            if self.sealed_log.wait_for_append(min(0.1, left)):
                return
            if not is_postgres(self.sealed_log.location):
                stop.wait(left)
                return

    def run(self, stop: threading.Event | None = None, *, once: bool = False, idle_s: float = 0.5) -> int:
        """Relay until stopped (or, with ``once``, until the sealed log is drained)."""
        stop = stop or threading.Event()
        ensure_topic(self.bootstrap, self.topic, self.replication)
        ensure_topic(self.bootstrap, f"{self.topic}.dead-letter", self.replication)  # where projections put poison (projections/dead_letters.py)
        producer = self._producer()
        try:
            self.published = last_published(self.bootstrap, self.topic, recogniser(self.sealed_log), start_offset=self._offsets.last(self.topic),
                                            window=self.batch_size + 10)
            log.info("relay resumes after seq %s", self.published.seq)
            self.sealed_log.wait_for_append(0)  # listening before the first read: no append's notice falls between
            total = 0
            while not stop.is_set():
                n = self.relay_batch(producer)
                total += n
                if n == 0:
                    if once:
                        break
                    self._idle(stop, idle_s)
            return total
        finally:
            producer.close(timeout=10)
