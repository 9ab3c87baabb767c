"""The projection (Kafka → Elasticsearch) beside the bare bulk helper doing the same writes, measured
in one run on the same servers; asserts nothing about speed.

    .venv/bin/python bench/projection.py [--events 100000] [--profile]

Needs Kafka and Elasticsearch (deploy/local/servers; started and stopped here if down). A synthetic
sealed log of ``--events`` events (bench/dataset.py) is relayed to a topic of its own, then:

- the ledger's projector (projections/projector.py over the Kafka feed, as `eldercare project`
  runs it) folds the topic into a fresh index prefix: reading and checking every envelope, folding
  record states, institution documents and enforcement records, writing them with their versions
  and the position;
- `elasticsearch.helpers.streaming_bulk` alone sends the very same write operations the projector
  sent (recorded as it sent them) into another fresh prefix with the same mappings — the library's
  ceiling for this work, without reading, checking or folding.

Both are events/s over the same events. Issue #14's goal: projection ≥ 10,000 events/s and ≥ 0.8
of the bulk helper. ``--profile`` prints where the projector's time goes (cProfile, top 25).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from elasticsearch.helpers import streaming_bulk  # noqa: E402

from bench.dataset import Generator, write  # noqa: E402
from projections.projector import SearchProjector  # noqa: E402
from projections.search.elastic import ElasticSearchIndex, connect  # noqa: E402
from services.feeds import KafkaFeed  # noqa: E402
from services.ledger.sealed_log import SealedLog  # noqa: E402
from services.relay.kafka_relay import KafkaRelay  # noqa: E402
from tests.cluster_run import local_servers  # noqa: E402


class RecordingClient:
    """The Elasticsearch client, with every bulk request's operations kept for the peer."""

    def __init__(self, es) -> None:
        self._es = es
        self.operations: list[list[dict]] = []

    def bulk(self, *, operations, **kwargs):
        self.operations.append(operations)
        return self._es.bulk(operations=operations, **kwargs)

    def __getattr__(self, name):
        return getattr(self._es, name)


def ours(servers: dict[str, str], topic: str, prefix: str, profile: bool) -> tuple[int, float, list[list[dict]]]:
    es = connect(servers["ELDERCARE_ES_URL"], servers["ELDERCARE_ES_USER"], servers["ELDERCARE_ES_PASSWORD"])
    index = ElasticSearchIndex(es, prefix)
    recording = RecordingClient(index.es)
    index.es = recording
    feed = KafkaFeed(servers["ELDERCARE_KAFKA_BOOTSTRAP"], topic)
    projector = SearchProjector(feed, index)
    profiler = cProfile.Profile() if profile else None
    start = time.perf_counter()
    if profiler:
        profiler.enable()
    n = projector.catch_up()
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - start
    feed.close()
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    return n, seconds, recording.operations


def peer(servers: dict[str, str], ours_prefix: str, prefix: str, requests: list[list[dict]], chunk_size: int) -> float:
    """streaming_bulk of the same operations into indices made with the same mappings, ``chunk_size``
    documents a request."""
    es = connect(servers["ELDERCARE_ES_URL"], servers["ELDERCARE_ES_USER"], servers["ELDERCARE_ES_PASSWORD"])
    ElasticSearchIndex(es, prefix)._ensure()
    rename = {f"{ours_prefix}-": f"{prefix}-"}

    def actions():
        for operations in requests:
            for header, source in zip(operations[::2], operations[1::2], strict=True):
                meta = dict(header["index"])
                for old, new in rename.items():
                    meta["_index"] = meta["_index"].replace(old, new, 1)
                yield {"_op_type": "index", **meta, "_source": source}

    start = time.perf_counter()
    for ok, item in streaming_bulk(es, actions(), chunk_size=chunk_size, max_chunk_bytes=512 * 1024 * 1024,
                                   raise_on_error=False):
        if not ok and item["index"]["status"] != 409:
            raise RuntimeError(item)
    es.indices.refresh(index=f"{prefix}-*")
    return time.perf_counter() - start


def measure(events: int, *, profile: bool = False) -> dict[str, float]:
    """The projector and the bulk helper on the same writes, one run: events/s of each (the helper
    at its default 500 a request and at the projector's largest request), printed and returned."""
    run = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory() as tmp, local_servers() as servers:
        store = Path(tmp) / "ledger.sqlite"
        events, _ = write(store, Generator(20261204, max(500, events // 40), events, "32").envelopes())
        topic = f"bench-projection-{run}"
        KafkaRelay(SealedLog(store), servers["ELDERCARE_KAFKA_BOOTSTRAP"], topic).run(once=True)
        es = connect(servers["ELDERCARE_ES_URL"], servers["ELDERCARE_ES_USER"], servers["ELDERCARE_ES_PASSWORD"])
        try:
            n, seconds, requests = ours(servers, topic, f"bench-ours-{run}", profile)
            writes = sum(len(ops) // 2 for ops in requests)
            largest = max(len(ops) // 2 for ops in requests)
            bare = peer(servers, f"bench-ours-{run}", f"bench-bulk-{run}", requests, 500)
            bare_large = peer(servers, f"bench-ours-{run}", f"bench-big-{run}", requests, largest)
            print(f"{events} events relayed; the projector wrote {writes} documents in {len(requests)} bulk requests")
            print(f"  {'figure':<58} {'events/s':>10} {'ratio':>8}")
            print(f"  {'ledger projector (Kafka -> Elasticsearch, checked, folded)':<58} {n / seconds:>10,.0f}")
            for label, t in (("streaming_bulk alone, same writes, 500 a request (default)", bare),
                             (f"streaming_bulk alone, same writes, {largest:,} a request", bare_large)):
                print(f"  {label:<58} {events / t:>10,.0f} {(n / seconds) / (events / t):>8.2f}")
            print("  goal: projection >= 10,000 events/s and >= 0.8 of the bulk helper")
            return {"rate": n / seconds, "peer_rate": events / bare, "peer_large_rate": events / bare_large}
        finally:
            es.options(ignore_status=404).indices.delete(index=f"bench-*-{run}-*")
            es.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="投影基准测试（Kafka → Elasticsearch）")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--profile", action="store_true", help="打印投影的耗时分布")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; {datetime.now().isoformat(timespec='seconds')}")
    measure(args.events, profile=args.profile)


if __name__ == "__main__":
    main()
