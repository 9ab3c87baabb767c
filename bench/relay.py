"""The relay (sealed log → Kafka, transactional, acks=all) beside its peers, measured in one run on
the same broker; asserts nothing about speed.

    .venv/bin/python bench/relay.py [--events 200000]

Needs Kafka (deploy/local/servers start kafka; started and stopped here if down). A synthetic
sealed log of ``--events`` events (bench/dataset.py) is relayed three ways, each into a topic of its
own:

- the ledger's relay (services/relay/kafka_relay.py), as `eldercare relay` runs it;
- kafka-python alone: the same records (key, value, headers) sent by a bare transactional
  producer with the same settings, one transaction per the relay's batch — the library's ceiling
  for this work;
- Kafka's own producer performance tool (org.apache.kafka.tools.ProducerPerformance, what
  kafka-producer-perf-test.sh runs; fetched from Maven Central into var/bench/kafka-tools on first
  use), transactional, acks=all, records of the log's mean envelope size.

Issue #14's goal: relay ≥ 20,000 events/s and ≥ 0.6 of the perf tool.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kafka import KafkaProducer  # noqa: E402
from kafka.record import util as record_util  # noqa: E402

from bench.dataset import Generator, write  # noqa: E402
from services.ledger.sealed_log import SealedLog  # noqa: E402
from services.relay.kafka_clients import PRODUCER  # noqa: E402
from services.relay.kafka_relay import BATCH_BYTES, BATCH_EVENTS, LINGER_MS, KafkaRelay  # noqa: E402
from tests.cluster_run import local_servers  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / "var" / "bench" / "kafka-tools"


def ledger_relay(store: Path, bootstrap: str) -> float:
    topic = f"bench-relay-{uuid.uuid4().hex[:8]}"
    relay = KafkaRelay(SealedLog(store), bootstrap, topic)
    start = time.perf_counter()
    n = relay.run(once=True)
    return n / (time.perf_counter() - start)


def bare_producer(store: Path, bootstrap: str) -> float:
    """The same records, sent by kafka-python alone (read into memory first: only sending is timed)."""
    records = []
    log = SealedLog(store)
    after = 0
    while batch := log.read_for_relay(after, 20000):
        records += batch
        after = batch[-1][0]
    topic = f"bench-bare-{uuid.uuid4().hex[:8]}"
    from services.relay.kafka_relay import ensure_topic

    ensure_topic(bootstrap, topic)
    producer = KafkaProducer(bootstrap_servers=bootstrap, transactional_id=f"bench-bare-{topic}", acks="all", linger_ms=LINGER_MS,
                             batch_size=BATCH_BYTES, max_block_ms=60000, transaction_timeout_ms=60000, **PRODUCER)
    producer.init_transactions()
    start = time.perf_counter()
    for i in range(0, len(records), BATCH_EVENTS):
        producer.begin_transaction()
        for seq, key, event_type, hash_, envelope in records[i:i + BATCH_EVENTS]:
            producer.send(topic, key=key.encode(), value=envelope, partition=0,
                          headers=[("seq", str(seq).encode()), ("event_type", event_type.encode()), ("hash", hash_.encode())])
        producer.commit_transaction()
    seconds = time.perf_counter() - start
    producer.close()
    return len(records) / seconds


def perf_tool(bootstrap: str, events: int, record_size: int) -> float | None:
    if not (TOOLS / ".complete").exists():
        TOOLS.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["mvn", "-q", "-B", "-f", str(ROOT / "bench" / "kafka_tools" / "pom.xml"), "dependency:copy-dependencies",
                               f"-DoutputDirectory={TOOLS}"], capture_output=True, text=True)
        if done.returncode != 0:
            print(f"  (Kafka's perf tool could not be fetched: {done.stdout[-300:]}{done.stderr[-300:]})")
            return None
        (TOOLS / ".complete").touch()
    topic = f"bench-perf-{uuid.uuid4().hex[:8]}"
    from services.relay.kafka_relay import ensure_topic

    ensure_topic(bootstrap, topic)
    out = subprocess.run(["java", "-Xmx512m", "-cp", f"{TOOLS}/*", "org.apache.kafka.tools.ProducerPerformance", "--topic", topic,
                          "--num-records", str(events), "--record-size", str(record_size), "--throughput", "-1",
                          "--transactional-id", f"bench-perf-{topic}", "--transaction-duration-ms", "500",
                          "--producer-props", f"bootstrap.servers={bootstrap}", "acks=all"],
                         capture_output=True, text=True, timeout=900)
    found = re.findall(r"([\d.]+) records/sec", out.stdout)
    if not found:
        print(f"  (perf tool gave no figure: {out.stdout[-400:]}{out.stderr[-400:]})")
        return None
    return float(found[-1])


def measure(events: int) -> dict[str, float]:
    """The relay, kafka-python alone and Kafka's perf tool on the same broker, one run: events/s of
    each (the perf tool's is None if it could not run), printed and returned."""
    crc = "C (crc32c package)" if record_util.crc32c_c is not None else "pure Python"
    print(f"kafka-python CRC32C in {crc}")
    with tempfile.TemporaryDirectory() as tmp, local_servers() as servers:
        bootstrap = servers["ELDERCARE_KAFKA_BOOTSTRAP"]
        store = Path(tmp) / "ledger.sqlite"
        events, seconds = write(store, Generator(20261202, 5000, events, "32").envelopes())
        size = SealedLog(store).db.row("SELECT AVG(LENGTH(envelope)) FROM sealed_log")[0]
        print(f"{events} events sealed in {seconds:.0f} s; mean envelope {size:.0f} bytes; relay batch {BATCH_EVENTS} events, "
              f"producer batch {BATCH_BYTES // 1024} KB, linger {LINGER_MS} ms")
        ours = ledger_relay(store, bootstrap)
        bare = bare_producer(store, bootstrap)
        tool = perf_tool(bootstrap, events, int(size))
        print(f"  {'figure':<48} {'events/s':>10} {'ratio':>8}")
        print(f"  {'ledger relay (sealed log -> Kafka, transactional)':<48} {ours:>10,.0f}")
        print(f"  {'kafka-python alone, same records and settings':<48} {bare:>10,.0f} {ours / bare:>8.2f}")
        if tool:
            print(f"  {'Kafka ProducerPerformance, transactional':<48} {tool:>10,.0f} {ours / tool:>8.2f}")
        print("  goal: relay >= 20,000 events/s and >= 0.6 of the perf tool")
        return {"rate": ours, "bare_rate": bare, "tool_rate": tool}


def main() -> None:
    parser = argparse.ArgumentParser(description="转发基准测试")
    parser.add_argument("--events", type=int, default=200_000)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; {datetime.now().isoformat(timespec='seconds')}")
    measure(args.events)


if __name__ == "__main__":
    main()
