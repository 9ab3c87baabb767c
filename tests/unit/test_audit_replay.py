"""Auditors' replay: an institution and a public list as of any seq or moment, the full history
with corrections tied to what they correct, diffs between two moments, and a past publication of
the site rebuilt byte for byte from the ledger."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import datetime, timezone

import pytest

from services import cli
from services.audit.history import diff, history, list_diff
from services.audit.replay import NotInLedger, institution_as_of, lists_as_of, resolve_seq
from services.demo import seed_demo
from services.ledger.application import BEIJING, open_ledger
from services.settings import Settings
from tests.conftest import Clock, command, decide, filing_request, unique_credit_code


@pytest.fixture
def corrected(ledger, clock):
    """A filing, its name corrected, then a second filing; with the ledger head and the wall-clock
    moment after each step (``recorded_at`` is when the ledger stored an event)."""
    app, sealer = ledger
    first = str(app.file_new(command(filing_request(credit_code=unique_credit_code()))).aggregate_id)
    sealer.seal_pending()
    filing = sealer.log.read(0, 1)[0].envelope
    marks = [(sealer.log.head().seq, pause())]
    decide(app, "record.correct", {"original_event_id": filing["event_id"], "reason": "名称录入错误", "approver": "科长李某",
                                   "corrected": {"name": "镇江市润州区颐和护理院"}, "corrected_on": "2024-06-03"}, first)
    sealer.seal_pending()
    marks.append((sealer.log.head().seq, pause()))
    second = str(app.file_new(command(filing_request(
        credit_code=unique_credit_code(), receipt_no="321111-2024-0201", name="镇江市润州区康乐养老院"))).aggregate_id)
    sealer.seal_pending()
    marks.append((sealer.log.head().seq, pause()))
    return {"app": app, "log": sealer.log, "first": first, "second": second, "filing": filing, "marks": marks}


def pause() -> str:
    time.sleep(0.01)
    moment = datetime.now(timezone.utc).isoformat()
    time.sleep(0.01)
    return moment


def test_an_institution_as_of_a_moment_is_what_the_ledger_knew_then(corrected):
    log, first, filing = corrected["log"], corrected["first"], corrected["filing"]
    (filed_seq, filed_at), (corrected_seq, corrected_at), _ = corrected["marks"]
    assert resolve_seq(log, at=filed_at) == filed_seq
    assert resolve_seq(log, at=corrected_at) == corrected_seq
    assert institution_as_of(log, first, resolve_seq(log, at=filed_at))["name"] == filing["payload"]["name"]
    assert institution_as_of(log, first, resolve_seq(log, at=corrected_at))["name"] == "镇江市润州区颐和护理院"
    assert institution_as_of(log, first, 0) is None
    assert resolve_seq(log, at="2020-01-01T00:00:00+08:00") == 0
    with pytest.raises(NotInLedger):
        resolve_seq(log, seq=99)


def test_the_history_names_who_decided_on_what_basis_and_ties_corrections_to_their_original(corrected):
    filing = corrected["filing"]
    entries = history(corrected["log"], corrected["first"])
    decisions = [e for e in entries if e["aggregate_type"] != "IdentifierClaim"]
    assert [e["event_type"] for e in decisions] == ["InstitutionFiled", "DecisionCorrected"]
    assert {e["event_type"] for e in entries} == {"InstitutionFiled", "IdentifierClaimed", "DecisionCorrected"}
    filed, correction = decisions
    assert filed["actor"]["department"] == "civil_affairs" and filed["basis"]["document_no"] == "润民养备〔2024〕12号"
    assert filed["title_zh"] and filed["rule_version"] and filed["hash"] == filing["hash"]
    assert filed["corrected_by"] == [{"seq": correction["seq"], "event_type": "DecisionCorrected"}]
    assert correction["corrects"] == {"event_id": filing["event_id"], "seq": 1}
    assert correction["payload"]["approver"] == "科长李某"


def test_diffs_between_two_moments_name_each_changed_field_and_list_row(corrected):
    log, first, filing = corrected["log"], corrected["first"], corrected["filing"]
    (filed_seq, _), (corrected_seq, _), (head, _) = corrected["marks"]
    changes = diff(institution_as_of(log, first, filed_seq), institution_as_of(log, first, corrected_seq))
    names = {c["field"]: (c["before"], c["after"]) for c in changes}
    assert names["name"] == (filing["payload"]["name"], "镇江市润州区颐和护理院")
    assert names["profile.name"] == names["name"]
    envelopes = [r.envelope for r in log.iterate()]
    rows = list_diff(lists_as_of(envelopes, filed_seq)["lists"]["filed"], lists_as_of(envelopes, head)["lists"]["filed"])
    assert [r["id"] for r in rows["added"]] == [corrected["second"]]
    assert rows["removed"] == []
    assert [c["key"] for c in rows["changed"]] == [first]


def test_a_list_as_of_a_seq_refuses_a_ledger_with_a_gap(corrected):
    from events.envelope import ChainBroken

    envelopes = [r.envelope for r in corrected["log"].iterate()]
    with pytest.raises(ChainBroken) as broken:
        lists_as_of([envelopes[0], envelopes[2]], 3)
    assert broken.value.seq == 2
    from services.audit.replay import SourceBehind

    with pytest.raises(SourceBehind) as short:  # a source that ends early (a topic the relay has not caught up)
        lists_as_of(envelopes[:2], 3)
    assert short.value.last_seq == 2


def test_a_past_publication_is_rebuilt_byte_for_byte(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ELDERCARE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ELDERCARE_JWT_SECRET", "replay-test-secret-0123456789abcdefghijkl")
    settings = Settings.from_env()
    clock = Clock(datetime(2026, 11, 24, 10, 0, tzinfo=BEIJING))
    app, sealer = open_ledger(settings.event_store, clock=clock)
    seed_demo(app, per_county=1)
    assert cli.main(["site", "build"]) == 0
    app.file_new(command(filing_request(credit_code=unique_credit_code(), receipt_no="321111-2024-0202", name="镇江市润州区后来养老院")))
    sealer.seal_pending()
    app.close()
    assert cli.main(["site", "build", "--incremental"]) == 0

    from services.publication import PublicationRegister

    register = PublicationRegister(settings.event_store)
    first, second = register.all()
    register.close()
    assert second.cut_seq == first.cut_seq + 3 and first.site_digest != second.site_digest  # a filing and its two claims
    for publication in (first, second):
        capsys.readouterr()
        status = cli.main(["audit", "site", "--at", publication.published_at, "--out", str(tmp_path / f"rebuilt-{publication.n}")])
        result = json.loads(capsys.readouterr().out)
        assert result["publication"]["n"] == publication.n
        assert result["identical"] and status == 0, result
    # The live site (built incrementally on top of the first) is the second publication exactly.
    from services.publication import site_digest

    assert site_digest(settings.site_dir)[0] == second.site_digest
    capsys.readouterr()
    assert cli.main(["audit", "site", "--at", "2020-01-01T00:00"]) == 1


def test_the_audit_cli_answers_as_of_questions(corrected, tmp_path, monkeypatch, capsys):
    first, second, filing = corrected["first"], corrected["second"], corrected["filing"]
    (filed_seq, _), (corrected_seq, corrected_at), (head, _) = corrected["marks"]
    monkeypatch.setenv("ELDERCARE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ELDERCARE_JWT_SECRET", "replay-test-secret-0123456789abcdefghijkl")
    with sqlite3.connect(corrected["log"].location) as source, sqlite3.connect(tmp_path / "ledger.sqlite") as copy:
        source.backup(copy)
    capsys.readouterr()
    assert cli.main(["audit", "institution", first, "--as-of", str(filed_seq)]) == 0
    assert json.loads(capsys.readouterr().out)["institution"]["name"] == filing["payload"]["name"]
    beijing = datetime.fromisoformat(corrected_at).astimezone(BEIJING).replace(tzinfo=None).isoformat()
    assert cli.main(["audit", "institution", first, "--as-of", beijing]) == 0  # no offset: Beijing time
    assert json.loads(capsys.readouterr().out)["institution"]["name"] == "镇江市润州区颐和护理院"
    assert cli.main(["audit", "list", "filed", "--as-of", str(corrected_seq), "--region", "321111"]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)["rows"]] == [first]
    assert cli.main(["audit", "diff", "--list", "filed", "--from", str(filed_seq), "--to", str(head)]) == 0
    assert [r["id"] for r in json.loads(capsys.readouterr().out)["changes"]["added"]] == [second]
    assert cli.main(["audit", "history", second]) == 0
    assert [e["event_type"] for e in json.loads(capsys.readouterr().out)][0] == "InstitutionFiled"
    assert cli.main(["audit", "replay", "--as-of", str(head)]) == 0
    assert json.loads(capsys.readouterr().out)["agree"]
    assert cli.main(["audit", "institution", first, "--as-of", "0"]) == 1


def test_reconcile_in_the_embedded_profile_names_a_published_list_that_was_edited(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ELDERCARE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ELDERCARE_JWT_SECRET", "replay-test-secret-0123456789abcdefghijkl")
    settings = Settings.from_env()
    app, sealer = open_ledger(settings.event_store, clock=Clock(datetime(2026, 11, 24, 10, 0, tzinfo=BEIJING)))
    seed_demo(app, per_county=1)
    sealer.seal_pending()
    app.close()
    assert cli.main(["project", "--once"]) == 0
    assert cli.main(["site", "build"]) == 0
    capsys.readouterr()
    assert cli.main(["audit", "reconcile"]) == 0
    report = json.loads(capsys.readouterr().out)
    head = report["summaries"]["store"]["last_seq"]
    assert report["agree"] and set(report["summaries"]) == {"store", "index", "site"}
    assert report["summaries"]["index"]["position_seq"] == head == report["summaries"]["site"]["cut_seq"]

    snapshot_file = settings.snapshot_dir / f"disclosure-{head:012d}.json"
    snapshot = json.loads(snapshot_file.read_bytes())
    snapshot["lists"]["filed"][0]["name"] += "（已改）"
    snapshot_file.write_text(json.dumps(snapshot, ensure_ascii=False), encoding="utf-8")
    assert cli.main(["audit", "reconcile"]) == 1
    problems = [(d["part"], d["subject"], d["seq"]) for d in json.loads(capsys.readouterr().out)["disagreements"]]
    assert ("site", "list filed", head) in problems

    snapshot_file.unlink()
    assert cli.main(["audit", "reconcile"]) == 1
    gone = json.loads(capsys.readouterr().out)["disagreements"]
    assert [(d["part"], "is gone" in d["problem"]) for d in gone] == [("site", True)]
