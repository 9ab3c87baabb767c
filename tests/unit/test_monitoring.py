"""The operators' alerting rules and dashboard (deploy/monitoring/) ask only for metrics the app
really exports: each expression's metric names are held to a real scrape of /metrics."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from tests.unit.test_api import bearer, serving

MONITORING = Path(__file__).resolve().parents[2] / "deploy" / "monitoring"
METRIC = re.compile(r"\beldercare_[a-z_]+\b")
CLUSTER_ONLY = {"eldercare_relay_lag_events"}  # exported only where there is a relay (the cluster profile)


def exported(tmp_path) -> set[str]:
    with serving(tmp_path) as (client, runtime):
        client.get("/v1/search", headers=bearer(runtime))
        client.get("/v1/search", headers={"Authorization": "Bearer nonsense"})
        text = client.get("/metrics").text
    names = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line and not line.startswith("#")}
    return names | CLUSTER_ONLY


def unknown(expr: str, names: set[str]) -> set[str]:
    """The metric names in a PromQL expression that are not exported (histogram series included)."""
    return {m for m in METRIC.findall(expr) if m not in names}


def test_every_alert_is_well_formed_and_asks_for_exported_metrics(tmp_path):
    names = exported(tmp_path)
    assert unknown("rate(eldercare_no_such_metric_total[5m])", names) == {"eldercare_no_such_metric_total"}  # the check can fail
    assert "eldercare_http_request_duration_seconds_bucket" in names and "eldercare_ledger_events_total" in names
    [group] = yaml.safe_load((MONITORING / "alerts.yaml").read_text(encoding="utf-8"))["groups"]
    alerts = group["rules"]
    assert len({a["alert"] for a in alerts}) == len(alerts) >= 6
    for alert in alerts:
        assert unknown(alert["expr"], names) == set(), alert["alert"]
        assert alert["labels"]["severity"] in ("critical", "warning") and re.fullmatch(r"\d+m", alert["for"])
        assert re.search(r"[\u4e00-\u9fff]", alert["annotations"]["summary"]) and alert["annotations"]["description"]
    assert all(m in (Path(__file__).resolve().parents[2] / "services/api/metrics.py").read_text() for m in CLUSTER_ONLY)


def test_the_dashboard_panels_ask_for_exported_metrics(tmp_path):
    names = exported(tmp_path)
    dashboard = json.loads((MONITORING / "grafana-dashboard.json").read_text(encoding="utf-8"))
    panels = dashboard["panels"]
    assert len({p["id"] for p in panels}) == len(panels) >= 6 and dashboard["uid"] == "eldercare-ledger"
    for panel in panels:
        assert panel["targets"] and re.search(r"[\u4e00-\u9fff]", panel["title"])
        for target in panel["targets"]:
            assert unknown(target["expr"], names) == set(), (panel["title"], target["expr"])
