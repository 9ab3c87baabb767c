"""Prometheus metrics, served at ``/metrics``:

- ``eldercare_http_requests_total{method,route,status}`` and
  ``eldercare_http_request_duration_seconds{method,route}`` — every request, by route template;
- ``eldercare_http_errors_total{route,code}`` — refusals and failures by their stable error code;
- ``eldercare_search_refused_total{status}`` — Elasticsearch refused the service's own credentials
  (401/403): the users see 503 SEARCH_UNAVAILABLE, the operators an alert (the password or role
  changed under the service);
- ``eldercare_ledger_events_total`` — events sealed (``rate()`` of it is events/s);
- ``eldercare_projection_position_seq`` and ``eldercare_projection_lag_events`` — the search index
  against the sealed ledger;
- ``eldercare_relay_lag_events`` (cluster) — sealed events not yet on the Kafka topic, read from the
  topic's tail at most every 15 s;
- ``eldercare_checkpoint_tree_size`` — the latest signed checkpoint.

Each app has its own registry (several apps may live in one test process).
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class LedgerCollector:
    """Ledger, projection and relay figures, read when Prometheus scrapes."""

    def __init__(self, runtime: Any, relay_every_s: float = 15.0) -> None:
        self.runtime = runtime
        self.relay_every_s = relay_every_s
        self._relay: tuple[float, int | None] = (0.0, None)
        self._relay_offsets: Any = None  # made on the first check: its table is created once, not per scrape

    def relayed_seq(self) -> int | None:
        checked, seq = self._relay
        if time.monotonic() - checked >= self.relay_every_s:
            from services.relay.kafka_relay import RelayOffsets, last_published, recogniser

            settings, log = self.runtime.settings, self.runtime.sealer.log
            try:
                if self._relay_offsets is None:
                    self._relay_offsets = RelayOffsets(log)
                start = self._relay_offsets.last(settings.kafka_topic)
                seq = last_published(settings.kafka_bootstrap, settings.kafka_topic, recogniser(log), start_offset=start,
                                     timeout_s=5.0).seq
            except Exception:  # noqa: BLE001  (unreachable Kafka: report no figure, not an error page)
                seq = None
            self._relay = (time.monotonic(), seq)
        return seq

    def collect(self):
        head = self.runtime.sealer.log.head().seq
        events = CounterMetricFamily("eldercare_ledger_events", "Events sealed in the ledger")
        events.add_metric([], head)
        yield events
        try:
            position = self.runtime.search.position()["seq"]
        except Exception:  # noqa: BLE001  (search backend down: readiness says so)
            position = None
        if position is not None:
            yield GaugeMetricFamily("eldercare_projection_position_seq", "Last ledger seq in the search index", value=position)
            yield GaugeMetricFamily("eldercare_projection_lag_events", "Sealed events not yet in the search index",
                                    value=head - position)
        if self.runtime.settings.profile == "cluster":
            relayed = self.relayed_seq()
            if relayed is not None:
                yield GaugeMetricFamily("eldercare_relay_lag_events", "Sealed events not yet on the Kafka topic", value=head - relayed)
        transparency = self.runtime.transparency
        if transparency is not None:
            latest = transparency.checkpoints.latest()
            yield GaugeMetricFamily("eldercare_checkpoint_tree_size", "Events covered by the latest signed checkpoint",
                                    value=latest.tree_size if latest else 0)


class Metrics:
    def __init__(self, runtime: Any) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("eldercare_http_requests", "HTTP requests", ["method", "route", "status"], registry=self.registry)
        self.duration = Histogram("eldercare_http_request_duration_seconds", "HTTP request duration", ["method", "route"],
                                  buckets=BUCKETS, registry=self.registry)
        self.errors = Counter("eldercare_http_errors", "HTTP refusals and failures by error code", ["route", "code"],
                              registry=self.registry)
        self.search_refused = Counter("eldercare_search_refused", "Elasticsearch refused the service's credentials",
                                      ["status"], registry=self.registry)
        self.search_refused.labels("401")  # exported from the start: the alert's series exists before the first refusal
        self.collector = LedgerCollector(runtime)
        self.registry.register(self.collector)

    def observe(self, method: str, route: str, status: int, error_code: str | None, seconds: float) -> None:
        """One answered request (services/api/request_log.py observes each response once)."""
        self.requests.labels(method, route, str(status)).inc()
        self.duration.labels(method, route).observe(seconds)
        if status >= 400:
            self.errors.labels(route, error_code or f"HTTP_{status}").inc()
