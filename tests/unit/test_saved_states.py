"""A publication folds only the events since the last one's cut, from the record states saved
there (projections/saved_states.py), and publishes exactly the site a fold of the whole ledger
makes: after corrections, retractions and months in which terms end and deadlines pass. A saved
file the ledger does not vouch for is never used."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from events.canonical import canonical_json
from projections import saved_states
from projections.disclosure import InstitutionParts, build_snapshot
from projections.record_states import fold
from services.audit.transparency import Transparency
from services.demo import seed_demo
from services.domain.actors import Actor
from services.feeds import SealedLogFeed
from services.ledger.application import BEIJING, Basis, Command, open_ledger
from services.ledger.sealed_log import SealedLog
from services.publication import PublicationRegister, publish_site, reproduce
from services.settings import Settings
from tests.conftest import Clock

BASIS = Basis("续算测〔2027〕1号", "《养老机构管理办法》")


class Ledger:
    """The demo ledger and the commands the test records on it, as its officers would."""

    def __init__(self, root: Path) -> None:
        self.settings = Settings.from_env({"ELDERCARE_DATA_DIR": str(root / "var")})
        self.clock = Clock(datetime(2026, 11, 24, 10, 0, tzinfo=BEIJING))
        self.app, self.sealer = open_ledger(self.settings.event_store, clock=self.clock)
        seed_demo(self.app)

    def envelopes(self) -> list[dict[str, Any]]:
        return [r.envelope for r in self.sealer.log.iterate()]

    def first(self, event_type: str) -> dict[str, Any]:
        return next(e for e in self.envelopes() if e["event_type"] == event_type)

    def run(self, name: str, request: dict[str, Any], target: str | None, actor: Actor) -> dict[str, Any]:
        self.app.execute(name, Command(actor, BASIS, request), target)
        self.sealer.seal_pending()
        return self.sealer.log.read(self.sealer.log.head().seq - 1, 1)[0].envelope

    @staticmethod
    def actor_of(envelope: dict[str, Any]) -> Actor:
        a = envelope["actor"]
        return Actor(a["department"], a["level"], a["region"], "续算测试")

    @staticmethod
    def amendment(envelope: dict[str, Any], **corrected: Any) -> dict[str, Any]:
        if corrected:
            return {"original_event_id": envelope["event_id"], "reason": "录入错误", "approver": "科长李某", "corrected": corrected,
                    "corrected_on": "2027-03-01"}
        return {"original_event_id": envelope["event_id"], "reason": "决定错误，予以撤销", "approver": "科长李某", "retracted_on": "2027-03-01"}

    def publish(self, *, incremental: bool = True) -> tuple[dict[str, Any], Any]:
        feed = SealedLogFeed(SealedLog(self.settings.event_store))
        transparency = Transparency.open(self.settings)
        register = PublicationRegister(self.settings.event_store)
        try:
            snapshot, _, _, _ = publish_site(feed, None, self.settings.site_dir, self.settings.snapshot_dir, transparency.tree,
                                          transparency.checkpoints, incremental=incremental)
            return snapshot, register.record(snapshot["cut"]["seq"], self.settings.site_dir)
        finally:
            register.close()
            transparency.close()
            feed.close()

    def reproduces(self, publication: Any, work: Path) -> bool:
        """The publication, rebuilt from every envelope of the ledger (nothing saved used), is identical."""
        transparency = Transparency.open(self.settings)
        try:
            same, _, _ = reproduce(publication, self.envelopes(), work, transparency.tree, transparency.checkpoints)
        finally:
            transparency.close()
        return same

    def folded(self) -> saved_states.Folded:
        feed = SealedLogFeed(SealedLog(self.settings.event_store))
        try:
            return saved_states.states_at(feed, self.settings.snapshot_dir)
        finally:
            feed.close()


@pytest.fixture(scope="module")
def ledger(tmp_path_factory):
    made = Ledger(tmp_path_factory.mktemp("saved-states"))
    yield made
    made.app.close()


def saved_files(ledger: Ledger) -> list[str]:
    return sorted(p.name for p in ledger.settings.snapshot_dir.glob("states-*.marshal"))


def test_the_next_publication_starts_from_the_states_saved_at_the_last_and_is_the_site_the_whole_ledger_makes(ledger, tmp_path):
    first, publication = ledger.publish(incremental=False)
    assert saved_files(ledger) == [f"states-{first['cut']['seq']:012d}.marshal"]
    assert ledger.reproduces(publication, tmp_path / "first")

    # a plan's title corrected, a penalty's publication retracted, a change filed, a major hazard
    # identified and the hazard retracted (the days a snapshot is made on: the last test)
    ledger.clock.set(date(2027, 3, 1))
    planned = ledger.first("InspectionPlanned")
    ledger.run("record.correct", ledger.amendment(planned, title="2026年镇江市养老机构“双随机、一公开”联合抽查（更正）"),
               planned["aggregate_id"], ledger.actor_of(planned))
    published = ledger.first("PenaltyPublished")
    ledger.run("record.retract", ledger.amendment(published), published["aggregate_id"], ledger.actor_of(published))
    filed = [e for e in ledger.envelopes() if e["event_type"] == "InstitutionFiled"]
    civil = Actor("civil_affairs", "county", filed[-2]["payload"]["region_code"], "续算测试")
    ledger.run("institution.change", {"changes": {"contact_phone": "0511-80001234"}, "changed_on": "2027-03-01"},
               filed[-2]["aggregate_id"], civil)
    fire = Actor("fire_rescue", "county", filed[-1]["payload"]["region_code"], "续算测试")
    hazard = ledger.run("hazard.identify", {"institution_id": filed[-1]["aggregate_id"], "severity": "major", "category": "fire_safety",
                                            "criterion_ref": "MH2023-4.2", "description": "消防设施不符合", "responsible_person": "院长",
                                            "identified_on": "2027-03-01"}, None, fire)
    ledger.run("record.retract", ledger.amendment(hazard), hazard["aggregate_id"], fire)

    folded = ledger.folded()
    assert folded.resumed_from == first["cut"]["seq"]  # it started from the saved states, not from seq 1
    assert folded.cut.seq == first["cut"]["seq"] + 5
    whole, cut = fold(ledger.envelopes())
    assert folded.states == whole and folded.cut == cut
    second, publication = ledger.publish()
    assert second["cut"]["seq"] == first["cut"]["seq"] + 5
    assert saved_files(ledger) == [f"states-{second['cut']['seq']:012d}.marshal"]  # the older one removed
    assert ledger.reproduces(publication, tmp_path / "second")
    page = (ledger.settings.site_dir / "lists/filed/index.html").read_text(encoding="utf-8")
    assert str(second["cut"]["seq"]) in page
    assert all(r["case_id"] != published["aggregate_id"] for r in second["lists"]["sanctions"])  # the retraction shows

    # nothing new: the saved states are the ledger's head, checked there
    again = ledger.folded()
    assert again.resumed_from == second["cut"]["seq"] and again.cut == cut and again.states == whole


def test_saved_states_the_ledger_does_not_vouch_for_are_not_used(ledger, tmp_path):
    ledger.publish()
    directory = ledger.settings.snapshot_dir
    (path,) = directory.glob("states-*.marshal")
    good = path.read_bytes()
    whole, cut = fold(ledger.envelopes())
    header, _, body = good.partition(b"\n")

    def folded_from(content: bytes) -> saved_states.Folded:
        path.write_bytes(content)
        try:
            return ledger.folded()
        finally:
            path.write_bytes(good)

    altered = bytearray(body)
    altered[len(altered) // 2] ^= 1
    other = json.loads(header)
    other["cut"]["hash"] = "0" * 64  # states of a ledger that reads otherwise at the cut
    elsewhere = dict(json.loads(header), feed="kafka:eldercare.ledger")
    for content in (header + b"\n" + bytes(altered), canonical_json(other) + b"\n" + body, b"not a header\n" + body,
                    canonical_json(elsewhere) + b"\n" + body, header + b"\n" + body[:-10]):
        folded = folded_from(content)
        assert folded.resumed_from is None, content[:120]
        assert folded.states == whole and folded.cut == cut
    # a cut before the saved one is folded from the beginning too
    feed = SealedLogFeed(SealedLog(ledger.settings.event_store))
    try:
        earlier = saved_states.states_at(feed, directory, cut.seq - 3)
    finally:
        feed.close()
    assert earlier.resumed_from is None and earlier.cut.seq == cut.seq - 3
    assert earlier.states == fold(ledger.envelopes(), cut.seq - 3)[0]
    assert ledger.folded().resumed_from == cut.seq  # the good file is still used


def test_institution_parts_carried_from_day_to_day_give_the_snapshot_made_afresh(ledger):
    """Every eleven days for four years (grades lapse, listings and publication periods end,
    handling deadlines pass): the snapshot made with the parts of the one before is byte-identical
    to one made from nothing, and the parts are reused where nothing fell due."""
    states, cut = fold(ledger.envelopes())
    parts = InstitutionParts()
    reused = remade_somewhere = 0
    day = date(2026, 11, 20)
    while day < date(2030, 12, 1):
        on = day.isoformat()
        before = parts.remade
        carried = build_snapshot(states.values(), cut, on=on, parts=parts)
        assert canonical_json(carried) == canonical_json(build_snapshot(states.values(), cut, on=on)), on
        remade = parts.remade - before
        reused += len(carried["institutions"]) - remade
        remade_somewhere += 0 < remade < len(carried["institutions"])
        day = date.fromordinal(day.toordinal() + 11)
    assert reused > 0 and remade_somewhere > 0
