"""Import of an existing register (issue #12): a generated 5,000-row file of Jiangsu filings from
2019 to 2024, one bad row in twenty of twelve kinds. The dry run names every bad row and why, in
Chinese, and records nothing; the import records every good row as the filing it was — its own date,
document number and basis, the importing officer as actor, the file's digest and row — and the
lists and search show them; importing the same file again records nothing twice."""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from services.domain.actors import Actor
from services.ledger.application import BEIJING, open_ledger
from services.ledger.register_import import import_register, template_csv
from tests.conftest import Clock, english_codes_in
from tests.register_files import as_csv, as_xlsx, filing_rows
from tests.unit.test_api import assert_refused, bearer, serving

PROVINCE = Actor("civil_affairs", "province", "320000", "江苏省民政厅数据迁移专员")


@pytest.fixture(scope="module")
def five_thousand(tmp_path_factory):
    """The 5,000-row file, dry-run, imported and imported again, once for the module's tests."""
    app, sealer = open_ledger(tmp_path_factory.mktemp("import") / "ledger.sqlite", clock=Clock(datetime(2024, 12, 2, 10, tzinfo=BEIJING)))
    rows, expected = filing_rows(5000)
    content = as_csv(rows)
    started = time.perf_counter()
    dry = import_register(app, "filings", content, "江苏省养老机构备案登记台账.csv", PROVINCE, dry_run=True)
    after_dry = app.recorder.max_notification_id() or 0
    first = import_register(app, "filings", content, "江苏省养老机构备案登记台账.csv", PROVINCE)
    sealer.seal_pending()
    after_first = app.recorder.max_notification_id()
    again = import_register(app, "filings", content, "江苏省养老机构备案登记台账.csv", PROVINCE)
    elapsed = time.perf_counter() - started
    yield {"app": app, "sealer": sealer, "rows": rows, "expected": expected, "dry": dry, "first": first, "again": again,
           "after_dry": after_dry, "after_first": after_first, "elapsed": elapsed}
    app.close()


def test_the_dry_run_names_every_bad_row_and_why_and_records_nothing(five_thousand):
    dry, expected = five_thousand["dry"], five_thousand["expected"]
    assert five_thousand["after_dry"] == 0
    refused = {r.row: r.code for r in dry.rows if r.outcome == "refused"}
    assert refused == expected and len(expected) == 250 and len(set(expected.values())) == 11
    assert dry.count("would_record") == 5000 - 250
    for r in dry.rows:
        if r.outcome == "refused":
            assert r.message_zh and not english_codes_in(r.message_zh), (r.row, r.message_zh)
    by_code = {r.code: r.message_zh for r in dry.rows if r.outcome == "refused"}
    assert "重复" in by_code["IMPORT_DUPLICATE_ROW"] and "逾期备案" in by_code["FILING_LATE"]
    assert "营利性、非营利性" in by_code["IMPORT_VALUE_INVALID"] or "不是有效日期" in by_code["IMPORT_VALUE_INVALID"]


def test_the_import_records_each_good_row_as_the_filing_it_was(five_thousand):
    first, rows, sealer = five_thousand["first"], five_thousand["rows"], five_thousand["sealer"]
    assert first.count("recorded") == 4750 and {r.row: r.code for r in first.rows if r.outcome == "refused"} == five_thousand["expected"]
    filed = list(sealer.log.iterate_types(("InstitutionFiled",)))
    assert len(filed) == 4750
    by_receipt = {e["payload"]["receipt_no"]: e for e in filed}
    good = next(r for i, r in enumerate(rows) if (i + 2) not in five_thousand["expected"])
    event = by_receipt[good["备案回执编号"]]
    assert event["occurred_at"] == good["备案日期"] and event["payload"]["name"] == good["机构名称"]
    assert event["basis"]["document_no"] == good["文书编号"] and event["basis"]["legal_basis"] == good["法律依据"]
    assert event["basis"]["imported_from"]["file_sha256"] == first.file_sha256 and event["basis"]["imported_from"]["row"] == rows.index(good) + 2
    assert event["actor"] == {"department": "civil_affairs", "level": "province", "region": "320000", "user": "江苏省民政厅数据迁移专员"}
    assert event["payload"]["nature"] in ("for_profit", "non_profit") and event["rule_version"].startswith("rules-20")


def test_importing_the_same_file_again_records_nothing_twice(five_thousand):
    again, app = five_thousand["again"], five_thousand["app"]
    assert again.count("already") == 4750 and again.count("recorded") == 0
    assert app.recorder.max_notification_id() == five_thousand["after_first"]
    print(f"\n5,000 rows: dry run, import and re-import in {five_thousand['elapsed']:.1f} s")


def test_an_xlsx_file_with_dates_as_dates_imports_the_same(tmp_path):
    app, _ = open_ledger(tmp_path / "ledger.sqlite", clock=Clock(datetime(2024, 12, 2, 10, tzinfo=BEIJING)))
    rows, expected = filing_rows(60, seed=7)
    report = import_register(app, "filings", as_xlsx(rows), "备案台账.xlsx", PROVINCE)
    assert {r.row: r.code for r in report.rows if r.outcome == "refused"} == expected
    assert report.count("recorded") == 60 - len(expected)
    app.close()


def test_a_file_without_the_required_columns_is_refused_as_a_whole(tmp_path):
    app, _ = open_ledger(tmp_path / "ledger.sqlite")
    report = import_register(app, "filings", "机构名称,地址\r\n某养老院,某地\r\n".encode(), "bad.csv", PROVINCE, dry_run=True)
    [row] = report.rows
    assert row.code == "IMPORT_COLUMN_MISSING" and "备案回执编号" in row.message_zh
    assert template_csv("filings").decode("utf-8-sig").startswith("备案回执编号,机构名称,地址")
    app.close()


def test_the_api_imports_a_file_and_the_lists_show_it(tmp_path):
    with serving(tmp_path / "data", Clock(datetime(2024, 12, 2, 10, tzinfo=BEIJING))) as (client, runtime):
        rows, expected = filing_rows(40, seed=3)
        content = as_csv(rows)
        province = bearer(runtime, "civil_affairs", "province", "320000")
        headers = {**province, "Content-Type": "text/csv"}
        dry = client.post("/v1/imports/filings", params={"dry_run": "true", "file_name": "台账.csv"}, content=content, headers=headers)
        assert dry.status_code == 200, dry.text
        assert dry.json()["would_record"] == 40 - len(expected) and {r["row"] for r in dry.json()["refusals"]} == set(expected)
        done = client.post("/v1/imports/filings", params={"file_name": "台账.csv"}, content=content, headers=headers)
        assert done.status_code == 200 and done.json()["recorded"] == 40 - len(expected)
        good = next(r for i, r in enumerate(rows) if (i + 2) not in expected)
        hits = client.get("/v1/public/search", params={"q": good["备案回执编号"]}).json()["hits"]
        assert [h["name"] for h in hits] == [good["机构名称"]]
        fire = bearer(runtime, "fire_rescue", "province", "320000")
        assert_refused(client.post("/v1/imports/filings", content=content, headers={**fire, "Content-Type": "text/csv"}), 403,
                       "DEPARTMENT_NOT_COMPETENT")
        assert_refused(client.post("/v1/imports/grades", content=content, headers=headers), 422, "IMPORT_FAMILY_UNKNOWN")
        assert_refused(client.post("/v1/imports/filings", content=b"", headers=headers), 422, "IMPORT_FILE_EMPTY")


def test_eldercare_import_from_the_command_line(tmp_path, monkeypatch, capsys):
    from services.cli import main

    monkeypatch.setenv("ELDERCARE_DATA_DIR", str(tmp_path / "data"))
    rows, expected = filing_rows(30, seed=5, bad_every=10)
    source = tmp_path / "备案台账.csv"
    source.write_bytes(as_csv(rows))
    officer = ["--region", "320000", "--user", "数据迁移专员"]
    assert main(["import", "filings", str(source), "--dry-run", *officer]) == 0
    out = capsys.readouterr().out
    assert "共 30 行，可记录 27 行" in out and "不予记录 3 行" in out and "第 11 行" in out
    report = tmp_path / "report.csv"
    assert main(["import", "filings", str(source), *officer, "--report", str(report)]) == 1  # some rows refused
    assert "已记录 27 行" in capsys.readouterr().out
    lines = report.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "行号,结果,代码,说明,记录编号" and sum("不予记录" in line for line in lines) == 3
    assert main(["import", "filings", str(source), *officer]) == 1
    assert "已记录 0 行，此前已导入 27 行" in capsys.readouterr().out
    assert main(["import", "filings", "--template"]) == 0
    assert main(["import", "filings", str(source)]) == 2  # who imports must be said


def test_gradings_made_before_the_ledger_are_imported_onto_their_institutions(tmp_path):
    """A register's grading results (level, date, certificate) import onto the institutions its
    filings brought in; the graded list and each institution's grade follow, with the validity of
    the rules of the award's date; a grade for an institution the ledger does not know is refused."""
    from projections.disclosure import snapshot_at
    app, sealer = open_ledger(tmp_path / "ledger.sqlite", clock=Clock(datetime(2024, 12, 2, 10, tzinfo=BEIJING)))
    rows, expected = filing_rows(40, seed=9, bad_every=1000)
    import_register(app, "filings", as_csv(rows), "备案.csv", PROVINCE)
    gradings = [
        {"统一社会信用代码": rows[0]["统一社会信用代码"], "等级": "三级", "评定日期": "2023-08-15", "证书编号": "苏养评证〔2023〕101号",
         "文书编号": "苏民评〔2023〕12号", "法律依据": "GB/T 37276-2018"},
        {"统一社会信用代码": rows[1]["统一社会信用代码"], "等级": "2", "评定日期": "2020-07-16", "证书编号": "苏养评证〔2020〕7号",
         "文书编号": "镇民评〔2020〕3号", "法律依据": "GB/T 37276-2018"},  # awarded 2020, valid 3 years: lapsed by now
        {"统一社会信用代码": "91320102MA1XXXXXX0", "等级": "一级", "评定日期": "2023-01-05", "证书编号": "苏养评证〔2023〕9号",
         "文书编号": "苏民评〔2023〕2号", "法律依据": "GB/T 37276-2018"},
        {"统一社会信用代码": rows[2]["统一社会信用代码"], "等级": "六级", "评定日期": "2023-01-05", "证书编号": "苏养评证〔2023〕10号",
         "文书编号": "苏民评〔2023〕3号", "法律依据": "GB/T 37276-2018"},
    ]
    report = import_register(app, "gradings", as_csv(gradings, "gradings"), "等级评定结果.csv", PROVINCE)
    assert [(r.row, r.outcome, r.code) for r in report.rows] == [
        (2, "recorded", None), (3, "recorded", None), (4, "refused", "IMPORT_INSTITUTION_UNKNOWN"), (5, "refused", "IMPORT_VALUE_INVALID")]
    sealer.seal_pending()
    graded = snapshot_at((r.envelope for r in sealer.log.iterate()), on="2024-12-02")["lists"]["graded"]
    assert [(r["name"], r["grade_level"]) for r in graded] == [(rows[0]["机构名称"], 3)]
    award = next(e for e in sealer.log.iterate_types(("GradeAwarded",)) if e["payload"]["level"] == 3)
    assert award["payload"]["valid_until"] == "2026-08-15" and award["occurred_at"] == "2023-08-15"
    assert award["basis"]["imported_from"]["row"] == 2
    # the imported award is no way to grade now
    from tests.conftest import decide, refused

    refused(app, lambda: decide(app, "grading.import_award", {"institution_id": award["institution_id"], "level": 3,
                                                              "awarded_on": "2024-06-01", "certificate_no": "x"}, actor=PROVINCE), "IMPORT_ONLY")
    app.close()


def test_listings_decided_before_the_ledger_are_imported_and_published(tmp_path):
    """A register's credit-list entries import onto their institutions as listing decisions with
    their term by the rules of their date, then their publication when the row dates one; the public
    list shows the published current ones; a listing dated before the list existed is refused."""
    from projections.disclosure import snapshot_at

    app, sealer = open_ledger(tmp_path / "ledger.sqlite", clock=Clock(datetime(2024, 12, 2, 10, tzinfo=BEIJING)))
    rows, _ = filing_rows(10, seed=4, bad_every=1000)
    import_register(app, "filings", as_csv(rows), "备案.csv", PROVINCE)
    base = {"名单类别": "养老服务市场失信联合惩戒对象名单", "列入事由": "侵害老年人合法权益", "原列入依据文书": "宁民罚决〔2023〕5号",
            "列入理由": "侵害老年人合法权益，情节严重", "文书编号": "苏民信〔2023〕1号", "法律依据": "民发〔2019〕103号"}
    listings = [
        {**base, "统一社会信用代码": rows[0]["统一社会信用代码"], "相关责任人": "王某（法定代表人）、李某（院长）",
         "列入决定日期": "2023-06-01", "公布日期": "2023-06-05"},
        {**base, "统一社会信用代码": rows[1]["统一社会信用代码"], "列入决定日期": "2023-07-01"},  # decided, never published
        {**base, "统一社会信用代码": rows[2]["统一社会信用代码"], "列入决定日期": "2019-09-01"},  # before 民发〔2019〕103号
        {**base, "统一社会信用代码": rows[3]["统一社会信用代码"], "列入决定日期": "2023-08-01", "公布日期": "2023-07-01"},
    ]
    report = import_register(app, "listings", as_csv(listings, "listings"), "失信名单.csv", PROVINCE)
    assert [(r.row, r.outcome, r.code) for r in report.rows] == [
        (2, "recorded", None), (3, "recorded", None), (4, "refused", "RULE_NOT_IN_FORCE"), (5, "refused", "DATE_ORDER_INVALID")]
    assert report.rows[3].message_zh.startswith("本行决定已记录，但其后的“公布”未记录") and report.rows[3].record_id
    sealer.seal_pending()
    joint = snapshot_at((r.envelope for r in sealer.log.iterate()), on="2024-12-02")["lists"]["joint_punishment"]
    assert [(r["name"], r["expires_on"], r["persons"]) for r in joint] == [
        (rows[0]["机构名称"], "2026-06-01", [{"name": "王某", "role": "法定代表人"}, {"name": "李某", "role": "院长"}])]
    again = import_register(app, "listings", as_csv(listings, "listings"), "失信名单.csv", PROVINCE)
    assert [r.outcome for r in again.rows[:2]] == ["already", "already"]
    app.close()


def test_penalties_decided_before_the_ledger_are_imported_with_their_publication(tmp_path):
    """A department's past penalty decisions import as decided cases (its ground, decision number,
    penalties checked by the rules of their date), then their publication (公示) when the row dates
    one; the public sanctions list shows the current ones; another department's ground is refused."""
    from projections.disclosure import snapshot_at

    app, sealer = open_ledger(tmp_path / "ledger.sqlite", clock=Clock(datetime(2024, 12, 2, 10, tzinfo=BEIJING)))
    rows, _ = filing_rows(6, seed=8, bad_every=1000)
    import_register(app, "filings", as_csv(rows), "备案.csv", PROVINCE)
    base = {"违法情形类别": "《养老机构管理办法》第四十六条第（七）项", "违法行为类型": "侵害老年人合法权益", "违法事实": "护理员殴打老年人",
            "处罚依据": "《养老机构管理办法》第四十六条", "处罚种类": "警告、罚款", "罚款金额（元）": "20000",
            "履行方式和期限": "15日内缴纳", "救济途径和期限": "60日内复议或6个月内诉讼", "作出决定的行政机关": "南京市玄武区民政局",
            "文书编号": "玄民罚〔2024〕1号", "法律依据": "《行政处罚法》"}
    cases = [
        {**base, "统一社会信用代码": rows[0]["统一社会信用代码"], "行政处罚决定书文号": "玄民罚决〔2024〕1号", "立案日期": "2024-05-06",
         "决定日期": "2024-06-10", "公示日期": "2024-06-20", "失信程度": "一般失信"},
        {**base, "统一社会信用代码": rows[1]["统一社会信用代码"], "行政处罚决定书文号": "玄消罚决〔2024〕2号",
         "违法情形类别": "消防安全违法行为（《消防法》）", "决定日期": "2024-06-12"},
        {**base, "统一社会信用代码": rows[2]["统一社会信用代码"], "行政处罚决定书文号": "玄民罚决〔2024〕3号", "罚款金额（元）": "50000",
         "决定日期": "2024-06-12"},
        {**base, "统一社会信用代码": rows[3]["统一社会信用代码"], "行政处罚决定书文号": "玄民罚决〔2024〕4号", "决定日期": "2024-02-01",
         "公示日期": "2024-05-06", "失信程度": "一般失信"},  # published 3 months after the decision, no reason given
    ]
    report = import_register(app, "sanctions", as_csv(cases, "sanctions"), "行政处罚台账.csv", PROVINCE)
    assert [(r.row, r.outcome, r.code) for r in report.rows] == [
        (2, "recorded", None), (3, "refused", "DEPARTMENT_NOT_COMPETENT"), (4, "refused", "FINE_ABOVE_LIMIT"),
        (5, "refused", "PUBLICATION_LATE")]
    assert "本行决定已记录" in report.rows[3].message_zh
    sealer.seal_pending()
    published = snapshot_at((r.envelope for r in sealer.log.iterate()), on="2024-12-02")["lists"]["sanctions"]
    assert [(r["decision_no"], r["publish_until"], r["penalties"]) for r in published] == [
        ("玄民罚决〔2024〕1号", "2025-06-10", [{"type": "warning"}, {"type": "fine", "amount": "20000"}])]
    twice = import_register(app, "sanctions", as_csv(cases[:1], "sanctions"), "另一份台账.csv", PROVINCE)
    assert [r.outcome for r in twice.rows] == ["already"]  # the same decision from another file
    clash = import_register(app, "sanctions", as_csv([dict(cases[0], 违法事实="另一事实")], "sanctions"), "第三份.csv", PROVINCE)
    assert [r.code for r in clash.rows] == ["DECISION_NO_IN_USE"]  # its number on another decision
    app.close()


def test_a_corrected_or_re_saved_file_or_another_officer_records_nothing_twice(tmp_path):
    """The idempotency key is the decision itself: a file re-saved with other bytes, corrected in one
    row, under another name or imported by another officer records each decision once."""
    app, sealer = open_ledger(tmp_path / "ledger.sqlite", clock=Clock(datetime(2024, 12, 2, 10, tzinfo=BEIJING)))
    rows, _ = filing_rows(6, seed=21, bad_every=1000)
    import_register(app, "filings", as_csv(rows), "备案.csv", PROVINCE)
    gradings = [{"统一社会信用代码": r["统一社会信用代码"], "等级": "二级", "评定日期": "2023-08-15", "证书编号": f"苏养评证〔2023〕{i}号",
                 "文书编号": "苏民评〔2023〕12号", "法律依据": "GB/T 37276-2018"} for i, r in enumerate(rows[:3])]
    gradings[2]["等级"] = "七级"  # a bad row
    first = import_register(app, "gradings", as_csv(gradings, "gradings"), "等级.csv", PROVINCE)
    assert [r.outcome for r in first.rows] == ["recorded", "recorded", "refused"]
    gradings[2]["等级"] = "三级"  # corrected, and the file saved again with a trailing blank line
    second = import_register(app, "gradings", as_csv(gradings, "gradings") + b"\r\n", "等级（更正）.csv", PROVINCE)
    assert [r.outcome for r in second.rows] == ["already", "already", "recorded"]
    city = Actor("civil_affairs", "city", rows[0]["行政区划代码"][:4] + "00", "市局数据专员")
    third = import_register(app, "gradings", as_csv(gradings[:1], "gradings"), "upload.csv", city)
    assert [r.outcome for r in third.rows] == ["already"]
    assert len(list(sealer.log.iterate_types(("GradeAwarded",)))) == 3
    app.close()


@pytest.mark.parametrize("content, code", [
    ("统一社会信用代码,等级,评定日期,证书编号,文书编号\r\n91320102MA1XXXXXX0,①,2023-01-01,x,y\r\n".encode(), "IMPORT_VALUE_INVALID"),
    ("统一社会信用代码,等级,评定日期,证书编号,文书编号\r\n91320102MA1XXXXXX0,2,2023-01-01,".encode() + b"x" * 140_000 + b",y\r\n",
     "IMPORT_FILE_UNREADABLE"),
    (b"PK\x03\x04 not really a workbook", "IMPORT_FILE_UNREADABLE"),
])
def test_malformed_files_are_refused_never_a_server_error(tmp_path, content, code):
    with serving(tmp_path / "data") as (client, runtime):
        headers = {**bearer(runtime, "civil_affairs", "province", "320000"), "Content-Type": "text/csv"}
        response = client.post("/v1/imports/gradings", params={"dry_run": "true"}, content=content, headers=headers)
        if response.status_code == 200:  # a row refused
            assert [r["code"] for r in response.json()["refusals"]] in ([code], ["IMPORT_INSTITUTION_UNKNOWN"])
        else:
            assert_refused(response, 422, code)


@pytest.mark.parametrize("operation", ["grading.import_award", "listing.import", "sanction.import"])
def test_an_import_only_step_is_refused_to_any_request_that_is_not_an_import(tmp_path, operation):
    from tests.conftest import decide, refused

    app, _ = open_ledger(tmp_path / "ledger.sqlite")
    error = refused(app, lambda: decide(app, operation, {}, actor=PROVINCE), "IMPORT_ONLY")
    assert "本系统启用前" in error.message_zh
    app.close()
