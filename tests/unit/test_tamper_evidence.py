"""Tamper evidence, end to end on the demo ledger: one altered byte, a dropped event, two events
swapped, a rewritten history and forged checkpoints are each found, with the exact seq named —
by ``eldercare audit verify`` on the store, and by the standalone verifier on the published site."""

from __future__ import annotations

import base64
import json
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from events.checkpoint import Checkpoint
from events.envelope import seal
from events.signed_note import Ed25519Signer
from services import cli
from services.audit.transparency import Transparency
from services.demo import seed_demo
from services.ledger.application import BEIJING, open_ledger
from services.settings import Settings
from tests.conftest import Clock

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=BEIJING)
TAMPERED = 120


def env_for(data_dir: Path) -> dict[str, str]:
    return {"ELDERCARE_DATA_DIR": str(data_dir), "ELDERCARE_JWT_SECRET": "tamper-test-secret-0123456789abcdefghij"}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """The demo ledger with checkpoints at 100 and 200 and a site published at its head."""
    root = tmp_path_factory.mktemp("pristine")
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env_for(root).items():
            mp.setenv(k, v)
        settings = Settings.from_env()
        app, sealer = open_ledger(settings.event_store, clock=Clock(NOW))
        seed_demo(app)
        sealer.seal_pending()
        head = sealer.log.head().seq
        app.close()
        transparency = Transparency.open(settings)
        for size in (100, 200):
            transparency.checkpoints.issue(size)
        transparency.close()
        assert cli.main(["site", "build"]) == 0
    return {"root": root, "head": head}


def copy_ledger(pristine, target: Path) -> Path:
    target.mkdir()
    for name in ("dev-signing-key.pem",):
        shutil.copy(pristine["root"] / name, target / name)
    with sqlite3.connect(pristine["root"] / "ledger.sqlite") as source, sqlite3.connect(target / "ledger.sqlite") as copy:
        source.backup(copy)
    return target / "ledger.sqlite"


def audit_verify(data_dir: Path, monkeypatch, capsys, *extra: str) -> dict:
    for k, v in env_for(data_dir).items():
        monkeypatch.setenv(k, v)
    capsys.readouterr()
    status = cli.main(["audit", "verify", *extra])
    report = json.loads(capsys.readouterr().out)
    assert status == (0 if report["verified"] else 1)
    return report


def first_seq(report: dict) -> int:
    return report["findings"][0]["seq"]


def envelope_of(db: sqlite3.Connection, seq: int) -> bytes:
    return bytes(db.execute("SELECT envelope FROM sealed_log WHERE seq = ?", (seq,)).fetchone()[0])


def test_the_untouched_ledger_and_site_verify(pristine, monkeypatch, capsys):
    report = audit_verify(pristine["root"], monkeypatch, capsys, "--site", str(pristine["root"] / "site"))
    assert report["verified"], report["findings"]
    assert report["events"] == pristine["head"]
    assert report["checkpoints"] == 3
    assert report["stamps"] > 40


def test_one_altered_byte_is_found_at_its_seq(pristine, tmp_path, monkeypatch, capsys):
    path = copy_ledger(pristine, tmp_path / "ledger")
    with sqlite3.connect(path) as db:
        raw = envelope_of(db, TAMPERED)
        at = raw.index(b'"aggregate_version":') + len(b'"aggregate_version":')
        altered = raw[:at] + bytes([raw[at] ^ 0x03]) + raw[at + 1:]  # one digit, still JSON
        assert len(altered) == len(raw) and altered != raw
        db.execute("UPDATE sealed_log SET envelope = ? WHERE seq = ?", (altered, TAMPERED))
    report = audit_verify(tmp_path / "ledger", monkeypatch, capsys)
    assert first_seq(report) == TAMPERED
    assert "altered" in report["findings"][0]["problem"]


def test_an_event_altered_in_the_event_store_the_commands_read_is_found_at_its_seq(pristine, tmp_path, monkeypatch, capsys):
    # The sealed log untouched; the event the aggregates are loaded from changed underneath it.
    path = copy_ledger(pristine, tmp_path / "ledger")
    with sqlite3.connect(path) as db:
        (nid,) = db.execute("SELECT notification_id FROM sealed_log WHERE seq = ?", (TAMPERED,)).fetchone()
        state = json.loads(db.execute("SELECT state FROM stored_events WHERE rowid = ?", (nid,)).fetchone()[0])
        state["basis"]["document_no"] += "（改）"
        db.execute("UPDATE stored_events SET state = ? WHERE rowid = ?",
                   (json.dumps(state, ensure_ascii=False, separators=(",", ":")).encode(), nid))
    report = audit_verify(tmp_path / "ledger", monkeypatch, capsys)
    assert not report["verified"] and first_seq(report) == TAMPERED
    assert "event store" in report["findings"][0]["problem"]


def test_a_byte_that_breaks_the_json_is_found_at_its_seq(pristine, tmp_path, monkeypatch, capsys):
    path = copy_ledger(pristine, tmp_path / "ledger")
    with sqlite3.connect(path) as db:
        raw = envelope_of(db, TAMPERED)
        db.execute("UPDATE sealed_log SET envelope = ? WHERE seq = ?", (raw[:-1] + b"!", TAMPERED))
    assert first_seq(audit_verify(tmp_path / "ledger", monkeypatch, capsys)) == TAMPERED


def test_a_dropped_event_is_found_at_its_seq(pristine, tmp_path, monkeypatch, capsys):
    path = copy_ledger(pristine, tmp_path / "ledger")
    with sqlite3.connect(path) as db:
        db.execute("DELETE FROM sealed_log WHERE seq = ?", (TAMPERED,))
    report = audit_verify(tmp_path / "ledger", monkeypatch, capsys)
    assert first_seq(report) == TAMPERED
    assert "missing" in report["findings"][0]["problem"]


def test_two_swapped_events_are_found_at_the_first(pristine, tmp_path, monkeypatch, capsys):
    path = copy_ledger(pristine, tmp_path / "ledger")
    with sqlite3.connect(path) as db:
        a, b = envelope_of(db, TAMPERED), envelope_of(db, TAMPERED + 1)
        db.execute("UPDATE sealed_log SET envelope = ? WHERE seq = ?", (b, TAMPERED))
        db.execute("UPDATE sealed_log SET envelope = ? WHERE seq = ?", (a, TAMPERED + 1))
    report = audit_verify(tmp_path / "ledger", monkeypatch, capsys)
    assert first_seq(report) == TAMPERED
    assert "out of order" in report["findings"][0]["problem"]


def rewrite_history(path: Path, from_seq: int) -> None:
    """The strongest attack on the chain alone: change one event and re-seal every later one, so
    every hash and prev_hash is consistent again."""
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT seq, envelope FROM sealed_log WHERE seq >= ? ORDER BY seq", (from_seq,)).fetchall()
        prev = json.loads(envelope_of(db, from_seq - 1))["hash"]
        for seq, raw in rows:
            envelope = json.loads(raw)
            if seq == from_seq:
                envelope["basis"] = dict(envelope["basis"], document_no="伪造〔2026〕1号")
            unsealed = {k: v for k, v in envelope.items() if k not in ("seq", "prev_hash", "hash")}
            resealed = seal(unsealed, seq, prev)
            prev = resealed["hash"]
            db.execute(
                "UPDATE sealed_log SET envelope = ?, hash = ? WHERE seq = ?",
                (json.dumps(resealed, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(), prev, seq),
            )


def test_a_rewritten_history_breaks_the_signed_checkpoints_and_the_site_names_its_seq(pristine, tmp_path, monkeypatch, capsys):
    path = copy_ledger(pristine, tmp_path / "ledger")
    rewrite_history(path, TAMPERED)
    alone = audit_verify(tmp_path / "ledger", monkeypatch, capsys)
    assert {f["subject"] for f in alone["findings"]} >= {"checkpoint 200", f"checkpoint {pristine['head']}"}
    assert "checkpoint 100" not in {f["subject"] for f in alone["findings"]}
    against_site = audit_verify(tmp_path / "ledger", monkeypatch, capsys, "--site", str(pristine["root"] / "site"))
    assert first_seq(against_site) == TAMPERED
    assert "published leaf differs" in against_site["findings"][0]["problem"]


def test_a_forged_checkpoint_is_refused_by_size(pristine, tmp_path, monkeypatch, capsys):
    path = copy_ledger(pristine, tmp_path / "ledger")
    with sqlite3.connect(path) as db:
        note = db.execute("SELECT note FROM checkpoints WHERE tree_size = 200").fetchone()[0]
        lines = note.split("\n")
        lines[2] = base64.b64encode(bytes(32)).decode()  # another root under the old signature
        db.execute("UPDATE checkpoints SET note = ? WHERE tree_size = 200", ("\n".join(lines),))
        impostor = Ed25519Signer.from_seed("eldercare.localhost/ledger", bytes(32))
        forged = Checkpoint("eldercare.localhost/ledger", 100, bytes(32), "0" * 64, "2026-11-24T00:00:00Z").sign([impostor])
        db.execute("UPDATE checkpoints SET note = ? WHERE tree_size = 100", (forged,))
    report = audit_verify(tmp_path / "ledger", monkeypatch, capsys)
    problems = {f["seq"]: f["problem"] for f in report["findings"]}
    assert problems == {100: "not signed by the ledger's Ed25519 key", 200: "Ed25519 signature does not verify"}


def standalone_verifier(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """The verifier as an auditor runs it: the file the site publishes, copied out, run with
    nothing of this code base importable."""
    copy = tmp_path / "auditor" / "verifier.py"
    copy.parent.mkdir()
    shutil.copy(Path(args[1]) / "transparency" / "verifier.py", copy)
    return subprocess.run([sys.executable, "-I", str(copy), *args], capture_output=True, text=True, cwd=copy.parent)


def test_the_standalone_verifier_checks_the_published_site(pristine, tmp_path):
    site = pristine["root"] / "site"
    done = standalone_verifier(tmp_path, "--site", str(site))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 个检查点" in done.stdout and "核验通过" in done.stdout


def test_the_standalone_verifier_finds_a_forged_site(pristine, tmp_path):
    site = tmp_path / "site"
    shutil.copytree(pristine["root"] / "site", site)
    # A page that claims another hash for its ledger position.
    page = next(p for p in sorted((site / "institutions").glob("*.html")) if 'data-seq="' in p.read_text())
    text = page.read_text()
    seq = int(text.split('data-seq="')[1].split('"')[0])
    real = text.split('data-hash="')[1].split('"')[0]
    page.write_text(text.replace(real, "f" * 64))
    # And a checkpoint whose root was changed after signing.
    note = (site / "transparency" / "checkpoints" / "200").read_text().split("\n")
    note[2] = base64.b64encode(bytes(32)).decode()
    (site / "transparency" / "checkpoints" / "200").write_text("\n".join(note))
    done = standalone_verifier(tmp_path, "--site", str(site))
    assert done.returncode == 1
    assert "FINDING checkpoint 200: Ed25519 signature does not verify" in done.stdout
    assert f"FINDING seq {seq}:" in done.stdout


def test_the_standalone_verifier_holds_every_checkpoint_to_its_sm2_co_signature(pristine, tmp_path):
    site = tmp_path / "site"
    shutil.copytree(pristine["root"] / "site", site)
    checkpoints = site / "transparency" / "checkpoints"
    # Checkpoint 200 loses its SM2 line; checkpoint 100's SM2 signature has one byte changed.
    text, lines = (checkpoints / "200").read_text().split("\n\n")
    assert len(lines.splitlines()) == 2  # Ed25519, then SM2
    (checkpoints / "200").write_text(text + "\n\n" + lines.splitlines()[0] + "\n")
    text, lines = (checkpoints / "100").read_text().split("\n\n")
    ed25519, sm2 = lines.splitlines()
    name, blob = sm2.split(" ")[1:]
    raw = bytearray(base64.b64decode(blob))
    raw[-1] ^= 1
    (checkpoints / "100").write_text(f"{text}\n\n{ed25519}\n\u2014 {name} {base64.b64encode(bytes(raw)).decode()}\n")
    done = standalone_verifier(tmp_path, "--site", str(site))
    assert done.returncode == 1
    assert "FINDING checkpoint 100: SM2/SM3 signature does not verify" in done.stdout
    assert "FINDING checkpoint 200: not signed by the ledger's SM2/SM3 key" in done.stdout
    # An auditor who pins only the Ed25519 key is told the co-signature went unchecked.
    ed25519_key = (site / "transparency" / "log.vkey").read_text()
    done = subprocess.run([sys.executable, "-I", str(tmp_path / "auditor" / "verifier.py"), "--site", str(site), "--vkey", ed25519_key],
                          capture_output=True, text=True)
    assert done.returncode == 0 and "未核验检查点的 SM2 副署" in done.stdout, done.stdout


def test_the_standalone_verifier_checks_an_export_against_the_site(pristine, tmp_path, monkeypatch, capsys):
    for k, v in env_for(pristine["root"]).items():
        monkeypatch.setenv(k, v)
    export = tmp_path / "ledger.jsonl"
    assert cli.main(["audit", "export", "--out", str(export)]) == 0
    site = str(pristine["root"] / "site")
    done = standalone_verifier(tmp_path, "--site", site, "--events", str(export))
    assert done.returncode == 0, done.stdout
    assert f"{pristine['head']} 个事件" in done.stdout
    lines = export.read_bytes().splitlines()
    lines[TAMPERED - 1] = lines[TAMPERED - 1].replace(b'"aggregate_version":1', b'"aggregate_version":7', 1)
    export.write_bytes(b"\n".join(lines) + b"\n")
    done = subprocess.run([sys.executable, "-I", str(tmp_path / "auditor" / "verifier.py"), "--site", site, "--events", str(export)],
                          capture_output=True, text=True)
    assert done.returncode == 1
    assert f"FINDING seq {TAMPERED}: altered" in done.stdout


def test_the_verifier_imports_only_the_standard_library_cryptography_and_for_sm2_tongsuopy():
    import ast

    source = Path(cli.__file__).parent / "audit" / "verifier.py"
    roots = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            roots.add(node.module.split(".")[0])
    assert roots - set(sys.stdlib_module_names) == {"cryptography", "tongsuopy"}


def test_kafka_copies_that_differ_from_the_ledger_are_named_by_seq(pristine):
    from services.audit.reconciliation import Reconciliation, check_kafka
    from services.ledger.sealed_log import SealedLog

    log = SealedLog(pristine["root"] / "ledger.sqlite")
    envelopes = [record.envelope for record in log.iterate()]
    log.close()
    hashes = {e["seq"]: e["hash"] for e in envelopes}
    forged = {**envelopes[8], "hash": "f" * 64}
    topic = [*envelopes[:4], *envelopes[5:], envelopes[6], forged]  # seq 5 lost, seq 7 twice, seq 9 forged
    result = Reconciliation()
    check_kafka(topic, hashes, result)
    assert [(d.seq, d.problem.split(";")[0]) for d in result.disagreements] == [
        (7, "delivered more than once"), (9, "a second, different message for this seq"), (5, "missing from the topic")]
    assert result.summaries["kafka"]["lag"] == 0

    complete = Reconciliation()
    check_kafka(envelopes, hashes, complete)
    assert complete.agree and complete.summaries["kafka"]["count"] == len(envelopes)
