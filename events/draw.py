"""The double-random draw (双随机), specified so that anyone can re-run it from the recorded event
with Python's standard library alone and get the same sample.

Algorithm ``sha256-rank-v1``:
1. For each risk class (sorted by name), take the pool's institutions of that class and rank them
   by SHA-256 of ``"{seed}|institution|{institution_id}"`` (hex, ascending). The first
   ``ceil(n * ratio / 100)`` are sampled, where ``ratio`` is the class's percentage (a decimal string).
2. For each sampled institution, in sample order, rank the inspectors without a conflict of
   interest with it by SHA-256 of ``"{seed}|inspector|{institution_id}|{inspector_id}"`` and take
   the first ``inspectors_per_team``.

The seed is committed to before anyone can know the pools: the plan records ``seed_commitment`` =
SHA-256 of the seed (hex); the draw reveals the seed, and ``verify`` checks both the commitment and
the sample. The ledger derives the seed from its own key and a random nonce fixed in the plan, so it
cannot choose another after the plan; a second plan for the same scope needs a recorded reason.
"""

from __future__ import annotations

import hashlib
import math
from decimal import Decimal
from typing import Any

ALGORITHM = "sha256-rank-v1"


class DrawImpossible(ValueError):
    def __init__(self, institution_id: str, available: int, needed: int) -> None:
        super().__init__(f"{institution_id}: {available} eligible inspectors, {needed} needed")
        self.institution_id = institution_id
        self.available = available
        self.needed = needed


def _rank(seed: str, *parts: str) -> str:
    return hashlib.sha256("|".join((seed, *parts)).encode()).hexdigest()


def sample_size(pool_size: int, ratio_percent: str) -> int:
    return math.ceil(Decimal(pool_size) * Decimal(ratio_percent) / Decimal(100))


def seed_commitment(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


def verify(published: dict[str, Any]) -> list[str]:
    """What is wrong with a published draw (the plan's commitment and the draw's inputs and sample):
    nothing if the seed matches the commitment and re-running the draw gives the recorded sample."""
    problems = []
    if published.get("seed_commitment") and seed_commitment(published["seed"]) != published["seed_commitment"]:
        problems.append("the seed does not match the commitment the plan recorded")
    again = draw(published["seed"], published["institution_pool"], published["inspector_pool"], published["ratios"],
                 published["inspectors_per_team"])
    if again != published["sample"]:
        problems.append("re-running the draw gives another sample")
    return problems


def draw(
    seed: str,
    institution_pool: list[dict[str, Any]],
    inspector_pool: list[dict[str, Any]],
    ratios: dict[str, str],
    inspectors_per_team: int,
) -> list[dict[str, Any]]:
    """The sample: ``[{"institution_id", "risk_class", "inspectors": [inspector_id, …]}, …]``."""
    sample = []
    for risk_class in sorted(ratios):
        members = [m for m in institution_pool if m["risk_class"] == risk_class]
        members.sort(key=lambda m: _rank(seed, "institution", m["institution_id"]))
        for member in members[: sample_size(len(members), ratios[risk_class])]:
            institution_id = member["institution_id"]
            eligible = [i for i in inspector_pool if institution_id not in i.get("conflicts", [])]
            if len(eligible) < inspectors_per_team:
                raise DrawImpossible(institution_id, len(eligible), inspectors_per_team)
            eligible.sort(key=lambda i: _rank(seed, "inspector", institution_id, i["inspector_id"]))
            team = [i["inspector_id"] for i in eligible[:inspectors_per_team]]
            sample.append({"institution_id": institution_id, "risk_class": risk_class, "inspectors": team})
    return sample
