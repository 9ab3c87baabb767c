"""The relay: copies the sealed log to the Kafka ledger topic, each event exactly once in effect.

Each batch is one Kafka transaction, and the relay's position is *the topic itself*: on start it
fences any earlier relay (``init_transactions`` aborts its open transaction), then reads the last
committed envelope of the topic and continues from the next seq. A crash anywhere, even mid-batch,
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
from events.envelope import GENESIS_HASH
from events.sealed_log import SealedLog

log = logging.getLogger("eldercare.relay")

TOPIC_CONFIG = {
    "retention.ms": "-1",  # the ledger is kept forever
    "retention.bytes": "-1",
    "cleanup.policy": "delete",
    "min.insync.replicas": "1",
    "message.timestamp.type": "CreateTime",
}


class RelayDiverged(RuntimeError):
    """The topic holds an envelope that differs from the sealed log at the same seq."""


@dataclass(frozen=True)
class Published:
    seq: int
    hash: str


def ensure_topic(bootstrap: str, topic: str) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="eldercare-admin")
    try:
        admin.create_topics(
            {topic: {"num_partitions": 1, "replication_factor": 1, "configs": TOPIC_CONFIG}},
            wait_for_metadata=True,
        )
        log.info("created topic %s", topic)
    except TopicAlreadyExistsError:
        pass
    finally:
        admin.close()


def last_published(bootstrap: str, topic: str, *, window: int = 1000, timeout_s: float = 60.0) -> Published:
    """The last committed envelope in the topic, found by reading back from the end in growing
    windows (aborted batches and transaction markers take offsets but are never delivered)."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, isolation_level="read_committed", enable_auto_commit=False, group_id=None
    )
    partition = TopicPartition(topic, 0)
    consumer.assign([partition])
    try:
        end = consumer.end_offsets([partition])[partition]
        while True:
            start = max(0, end - window)
            consumer.seek(partition, start)
            last = None
            deadline = time.monotonic() + timeout_s
            while consumer.position(partition) < end:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"could not read {topic} up to offset {end}")
                for record in consumer.poll(timeout_ms=500).get(partition, []):
                    if record.offset < end:
                        last = record
            if last is not None:
                envelope = loads(last.value)
                return Published(envelope["seq"], envelope["hash"])
            if start == 0:
                return Published(0, GENESIS_HASH)
            window *= 4
    finally:
        consumer.close()


class KafkaRelay:
    def __init__(
        self, log_: SealedLog, bootstrap: str, topic: str, *, batch_size: int = 500,
        send_delay_s: float = 0.0, before_batch=None,
    ) -> None:
        self.sealed_log = log_
        self.bootstrap = bootstrap
        self.topic = topic
        self.batch_size = batch_size
        self.send_delay_s = send_delay_s  # only for fault tests: widens the mid-batch window
        self.before_batch = before_batch  # e.g. the sealer, so events stored by a crashed API get sealed
        self.published = Published(0, GENESIS_HASH)

    def _producer(self) -> KafkaProducer:
        producer = KafkaProducer(
            bootstrap_servers=self.bootstrap,
            transactional_id=f"eldercare-relay.{self.topic}",
            acks="all",
            linger_ms=5,
            max_block_ms=60000,
            transaction_timeout_ms=60000,
        )
        producer.init_transactions()  # fences a previous relay and aborts its open transaction
        return producer

    def _check_continuity(self) -> None:
        if self.published.seq == 0:
            return
        records = self.sealed_log.read(after_seq=self.published.seq - 1, limit=1)
        if not records or records[0].envelope["hash"] != self.published.hash:
            raise RelayDiverged(
                f"topic {self.topic} ends at seq {self.published.seq} with hash {self.published.hash}, "
                "which the sealed log does not hold"
            )

    def relay_batch(self, producer: KafkaProducer) -> int:
        if self.before_batch is not None:
            self.before_batch()
        records = self.sealed_log.read(after_seq=self.published.seq, limit=self.batch_size)
        if not records:
            return 0
        producer.begin_transaction()
        for record in records:
            envelope = record.envelope
            producer.send(
                self.topic,
                key=(envelope["institution_id"] or envelope["aggregate_id"]).encode(),
                value=record.envelope_bytes,
                partition=0,
                headers=[
                    ("seq", str(record.seq).encode()),
                    ("event_type", envelope["event_type"].encode()),
                    ("hash", envelope["hash"].encode()),
                ],
            )
            if self.send_delay_s:
                producer.flush()
                time.sleep(self.send_delay_s)
        producer.commit_transaction()
        last = records[-1]
        self.published = Published(last.seq, last.envelope["hash"])
        return len(records)

    def run(self, stop: threading.Event | None = None, *, once: bool = False, idle_s: float = 0.5) -> int:
        """Relay until stopped (or, with ``once``, until the sealed log is drained)."""
        stop = stop or threading.Event()
        ensure_topic(self.bootstrap, self.topic)
        producer = self._producer()
        try:
            self.published = last_published(self.bootstrap, self.topic, window=self.batch_size + 10)
            self._check_continuity()
            log.info("relay resumes after seq %s", self.published.seq)
            total = 0
            while not stop.is_set():
                n = self.relay_batch(producer)
                total += n
                if n == 0:
                    if once:
                        break
                    stop.wait(idle_s)
            return total
        finally:
            producer.close(timeout=10)
