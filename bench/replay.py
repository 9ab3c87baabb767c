"""Auditor benchmark: replay to an as-of state, and verify the chain — prints figures, asserts
nothing about speed.

    .venv/bin/python bench/replay.py --events 1000000
    .venv/bin/python bench/replay.py --events 10000000 --institutions 40000 --keep /tmp/ledger-10m.sqlite

For each ledger (a seeded synthetic one from bench/dataset.py, or an existing one given by --store):

- replay to an as-of state: every public list folded from the sealed log up to the middle of the
  ledger and up to its head (what `eldercare audit list --as-of` does), in events/s; one
  institution's full document as of a seq (`eldercare audit institution --as-of`), p50/p99;
- the Merkle tree: storing the 256-leaf nodes over the whole log, signing a checkpoint, inclusion
  and consistency proofs p50/p99;
- chain verification: the standalone verifier (services/audit/verifier.py, stdlib + cryptography)
  reading every envelope, recomputing its hash from canonical JSON, checking prev_hash and the
  Merkle root against a signed checkpoint, in events/s.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.dataset import Generator, write  # noqa: E402
from services.audit import verifier  # noqa: E402
from services.audit.replay import digest, institution_as_of, lists_as_of  # noqa: E402
from services.ledger.checkpoints import Checkpointer  # noqa: E402
from services.ledger.ledger_tree import LedgerTree  # noqa: E402
from services.ledger.sealed_log import SealedLog  # noqa: E402
from services.ledger.signing_key import load_signers  # noqa: E402


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def line(label: str, text: str) -> None:
    print(f"  {label:<58} {text}", flush=True)


def rate(label: str, events: int, seconds: float) -> None:
    line(label, f"{events:>11,} events in {seconds:7.1f} s = {events / seconds:>9,.0f} events/s")


def envelopes(log: SealedLog, up_to: int | None = None):
    for record in log.iterate(up_to_seq=up_to, batch=5000):
        yield record.envelope


def replay_lists(log: SealedLog, head: int) -> None:
    for label, seq in (("lists as of the middle", head // 2), ("lists as of the head", head)):
        start = time.perf_counter()
        snapshot = lists_as_of(envelopes(log, seq), seq)
        seconds = time.perf_counter() - start
        rate(f"replay {label} (seq {seq:,})", seq, seconds)
        line("", f"{len(snapshot['institutions']):,} institutions in the snapshot, digest {digest(snapshot)[:16]}…")


def replay_institutions(log: SealedLog, head: int, samples: int) -> None:
    rows = log.aggregates_with(("InstitutionFiled", "InstitutionDiscovered"))
    rng = random.Random(7)
    ids = rng.sample(rows, min(samples, len(rows)))
    times, events = [], 0
    for iid in ids:
        seq = rng.randint(head // 2, head)
        start = time.perf_counter()
        institution_as_of(log, iid, seq)
        times.append((time.perf_counter() - start) * 1000)
        events += len(log.of_institution(iid, up_to_seq=seq))
    line(f"one institution as of a seq ({len(ids)} samples)",
         f"p50 {pct(times, 50):6.1f} ms  p99 {pct(times, 99):6.1f} ms  ({events / len(ids):.0f} events each)")


def merkle(log: SealedLog, head: int, key_file: Path, samples: int) -> tuple[str, str]:
    tree = LedgerTree(log)
    start = time.perf_counter()
    tree.extend()
    rate("merkle: store the 256-leaf nodes over the whole log", head, time.perf_counter() - start)
    checkpointer = Checkpointer(tree, load_signers(key_file, "bench.localhost/ledger", create=True))
    start = time.perf_counter()
    note = checkpointer.issue(head).note
    line("merkle: sign a checkpoint of the head", f"{(time.perf_counter() - start) * 1000:8.1f} ms")
    rng = random.Random(11)
    inclusion, consistency = [], []
    for _ in range(samples):
        seq = rng.randint(1, head)
        start = time.perf_counter()
        tree.inclusion(seq, head)
        inclusion.append((time.perf_counter() - start) * 1000)
        old = rng.randint(1, head)
        start = time.perf_counter()
        tree.consistency(old, head)
        consistency.append((time.perf_counter() - start) * 1000)
    line(f"merkle: inclusion proof at the head ({samples} samples)",
         f"p50 {pct(inclusion, 50):6.2f} ms  p99 {pct(inclusion, 99):6.2f} ms")
    line(f"merkle: consistency proof to the head ({samples} samples)",
         f"p50 {pct(consistency, 50):6.2f} ms  p99 {pct(consistency, 99):6.2f} ms")
    vkeys = checkpointer.verifier_keys()
    return note, vkeys


def verify_chain(log: SealedLog, head: int, note: str, vkeys: list[str]) -> None:
    start = time.perf_counter()
    report = verifier.verify(None, vkeys=vkeys, events=envelopes(log), checkpoint_notes=[note])
    seconds = time.perf_counter() - start
    rate("verify: hashes, chain and Merkle root vs signed checkpoint", report.events, seconds)
    line("", f"{'verified' if report.ok else 'NOT verified: ' + str(report.findings[:3])}")
    start = time.perf_counter()
    read = sum(1 for _ in envelopes(log))
    rate("(of which reading and parsing the envelopes)", read, time.perf_counter() - start)


def measure(events: int, tmp: Path, institutions: int | None = None) -> dict[str, float]:
    """For ``make bench``: a synthetic ledger of ``events``; every public list replayed as of its
    head, beside the bare read of the same envelopes (the sealed log read and parsed, nothing
    folded); one institution as of a seq; the process's peak memory so far."""
    store = tmp / f"replay-{events}.sqlite"
    institutions = institutions or (5000 if events <= 1_000_000 else 40000)
    count, _ = write(store, Generator(20261124, institutions, events, None if institutions > 5000 else "32").envelopes())
    log = SealedLog(store)
    try:
        head = log.head().seq
        start = time.perf_counter()
        read = sum(1 for _ in envelopes(log))
        bare = read / (time.perf_counter() - start)
        start = time.perf_counter()
        lists_as_of(envelopes(log, head), head)
        seconds = time.perf_counter() - start
        rng = random.Random(7)
        ids = rng.sample(log.aggregates_with(("InstitutionFiled", "InstitutionDiscovered")), 50)
        times = []
        for iid in ids:
            start = time.perf_counter()
            institution_as_of(log, iid, rng.randint(head // 2, head))
            times.append((time.perf_counter() - start) * 1000)
    finally:
        log.close()
    rate("replay every public list as of the head", head, seconds)
    return {"events": count, "institutions": institutions, "rate": head / seconds, "seconds": seconds, "bare_rate": bare,
            "institution_p99_ms": pct(times, 99), "peak_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description="审计回放与哈希链核验基准测试")
    parser.add_argument("--events", type=int, nargs="+", default=[1_000_000], help="每个合成台账的目标事件数")
    parser.add_argument("--institutions", type=int, default=None, help="机构数（默认：100万事件以下5000家，以上40000家）")
    parser.add_argument("--store", type=Path, default=None, help="用已有的台账文件，不再合成")
    parser.add_argument("--keep", type=Path, default=None, help="合成的台账保存到此路径（单个规模时）")
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; {datetime.now().isoformat(timespec='seconds')}")
    with tempfile.TemporaryDirectory() as tmp:
        runs = [(args.store, None)] if args.store else [(args.keep or Path(tmp) / f"ledger-{n}.sqlite", n) for n in args.events]
        for store, target in runs:
            if target is not None:
                institutions = args.institutions or (5000 if target <= 1_000_000 else 40000)
                start = time.perf_counter()
                count, _ = write(store, Generator(20261124, institutions, target, None if institutions > 5000 else "32").envelopes())
                print(f"\n{institutions:,} institutions, {count:,} events ({store.stat().st_size / 2**30:.1f} GiB)")
                rate("generate and seal the synthetic ledger", count, time.perf_counter() - start)
            log = SealedLog(store)
            head = log.head().seq
            if target is None:
                print(f"\n{store}: {head:,} events")
            replay_lists(log, head)
            replay_institutions(log, head, args.samples)
            note, vkeys = merkle(log, head, Path(tmp) / "bench-key.pem", args.samples)
            verify_chain(log, head, note, vkeys)
            log.close()
            print(f"  peak resident memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.1f} GiB")


if __name__ == "__main__":
    main()
