"""SearchIndex on Elasticsearch (the cluster profile).

The server is the plain Elasticsearch distribution with no analysis plugins, so substring matching
uses case-insensitive ``wildcard`` queries on keyword fields: exactly the substring semantics of
the embedded backend, two-character Chinese queries included; pinyin and initials are computed at
index time (pypinyin) into keyword fields. Documents are written with ``version_type=external``
and the ledger seq as version: Elasticsearch itself refuses a stale or duplicate write, which is
what makes replays harmless.

Each index has a versioned, generation-numbered name behind an alias
(``<prefix>-institutions`` → ``<prefix>-institutions-v2-g1``). ``rebuild`` projects the whole
feed into the next generation while the old one keeps serving, then swaps both aliases in one
atomic request: queries never see a missing or half-built index.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import orjson
from elasticsearch import ConflictError, Elasticsearch, NotFoundError
from elasticsearch.serializer import NdjsonSerializer, OrjsonSerializer

from events.envelope import GENESIS_HASH
from events.regions import parents
from projections.record_states import StateQuery, row
from projections.search.index import (
    INSTITUTION_FACETS,
    RECORD_FACETS,
    InstitutionQuery,
    RecordQuery,
    SearchResult,
    decode_cursor,
    encode_cursor,
    facet_key,
    institution_fields,
)

MAPPING_VERSION = 4  # 4: confidential decisions are in no shared index
KEYWORD = {"type": "keyword"}
INSTITUTION_MAPPINGS = {
    "dynamic": "strict",
    "properties": {
        **{f: KEYWORD for f in ("id", "status", "name", "address", "credit_code", "receipt_no", "region_code", "region_path",
                                "name_pinyin", "name_initials")},
        "seq": {"type": "long"}, "grade_level": {"type": "integer"}, "listed": {"type": "boolean"},
        "open_major_hazard": {"type": "boolean"},
        "doc": {"type": "object", "enabled": False},
    },
}
RECORD_MAPPINGS = {
    "dynamic": "strict",
    "properties": {
        **{f: KEYWORD for f in ("id", "event_type", "aggregate_type", "institution_id", "institution_name", "region_code",
                                "region_path", "department", "document_no", "summary")},
        "seq": {"type": "long"}, "version": {"type": "long"}, "occurred_at": {"type": "date", "format": "strict_date"},
        "doc": {"type": "object", "enabled": False},
    },
}
RECORD_FIELDS = ("id", "event_type", "aggregate_type", "institution_id", "institution_name", "region_code", "region_path",
                 "department", "document_no", "summary", "seq", "version", "occurred_at")
STATE_DOC_MAPPINGS = {
    "dynamic": "strict",
    "properties": {
        **{f: KEYWORD for f in ("id", "kind", "institution_id", "region_code", "region_path", "status")},
        "seq": {"type": "long"}, "opened_on": {"type": "date", "format": "strict_date"},
        "ended_on": {"type": "date", "format": "strict_date"},
        "doc": {"type": "object", "enabled": False},
    },
}
MAPPINGS = {"institutions": INSTITUTION_MAPPINGS, "records": RECORD_MAPPINGS, "states": STATE_DOC_MAPPINGS}
SHARDS = 1
STATE_MAPPINGS = {
    "dynamic": "strict",
    "properties": {"seq": {"type": "long"}, "cursor": {"type": "long"}, "hash": KEYWORD},
}


def _wildcard(field: str, text: str) -> dict[str, Any]:
    escaped = "".join("\\" + ch if ch in "*?\\" else ch for ch in text)
    return {"wildcard": {field: {"value": f"*{escaped}*", "case_insensitive": True}}}


class _OrjsonNdjsonSerializer(NdjsonSerializer):
    """Bulk bodies (newline-delimited JSON) encoded by orjson, as OrjsonSerializer does the rest:
    the standard library's encoder was a seventh of the projector's time."""

    def json_dumps(self, data: Any) -> bytes:
        return orjson.dumps(data, default=self.default)

    def json_loads(self, data: bytes) -> Any:
        return orjson.loads(data)


def connect(url: str, user: str, password: str) -> Elasticsearch:
    """A client of the node(s) at ``url``: one URL, or several separated by commas (the nodes of a
    cluster), among which the client spreads requests and moves on when one does not answer."""
    auth = (user, password) if password else None
    hosts = [u.strip() for u in url.split(",") if u.strip()]
    serializers = {OrjsonSerializer.mimetype: OrjsonSerializer(), NdjsonSerializer.mimetype: _OrjsonNdjsonSerializer()}
    return Elasticsearch(hosts, basic_auth=auth, request_timeout=30, retry_on_timeout=True, max_retries=3,
                        serializers=serializers)


class ElasticSearchIndex:
    """``create=False`` (the API, which only reads): nothing is asked of Elasticsearch until a
    request needs it, so the API starts, and records decisions, while Elasticsearch is down. The
    indices are then created before the first write. ``replicas``: each index's replica copies
    (the deployment's ELDERCARE_ES_REPLICAS), set at creation and brought to that number after."""

    def __init__(self, client: Elasticsearch, prefix: str, *, create: bool = True, replicas: int = 0) -> None:
        self.es = client
        self.prefix = prefix
        self.replicas = replicas
        self.aliases = {kind: f"{prefix}-{kind}" for kind in MAPPINGS}
        self.state_index = f"{prefix}-projection-state"
        self.created = False
        self._unrefreshed = False  # documents written since the last published position
        if create:
            self._ensure()

    # --- indices, aliases, generations -----------------------------------------------------------

    def _name(self, kind: str, generation: int) -> str:
        return f"{self.aliases[kind]}-v{MAPPING_VERSION}-g{generation}"

    def _create(self, name: str, mappings: dict[str, Any], aliases: dict[str, Any] | None = None) -> None:
        try:
            self.es.indices.create(index=name, mappings=mappings, aliases=aliases or {},
                                   settings={"number_of_shards": SHARDS, "number_of_replicas": self.replicas})
        except Exception as error:  # created meanwhile by another process
            if "resource_already_exists_exception" not in str(error):
                raise

    def _ensure(self) -> None:
        if not self.es.indices.exists(index=self.state_index):
            self._create(self.state_index, STATE_MAPPINGS)
        generation = self.generation() if self.es.indices.exists_alias(name=self.aliases["institutions"]) else 1
        for kind, mappings in MAPPINGS.items():
            if not self.es.indices.exists_alias(name=self.aliases[kind]):
                self._create(self._name(kind, generation), mappings, {self.aliases[kind]: {}})
        names = ",".join([self.state_index, *self.aliases.values()])
        current = self.es.indices.get_settings(index=names, name="index.number_of_replicas")
        if any(int(s["settings"]["index"]["number_of_replicas"]) != self.replicas for s in current.values()):
            self.es.indices.put_settings(index=names, settings={"index": {"number_of_replicas": self.replicas}})
        self.created = True

    def generation(self) -> int:
        """The generation the aliases point at now."""
        names = list(self.es.indices.get_alias(name=self.aliases["institutions"]))
        return int(re.search(r"-g(\d+)$", names[0]).group(1))

    def close(self) -> None:
        self.es.close()

    # --- documents -------------------------------------------------------------------------------

    def _mget(self, kind: str, ids: list[str]) -> dict[str, dict[str, Any]]:
        if not ids:
            return {}
        response = self.es.mget(index=self.aliases[kind], ids=ids, source_includes=["doc"])
        return {d["_id"]: d["_source"]["doc"] for d in response["docs"] if d.get("found")}

    def get(self, institution_id: str) -> dict[str, Any] | None:
        return self._mget("institutions", [institution_id]).get(institution_id)

    def get_many(self, institution_ids: list[str]) -> dict[str, dict[str, Any]]:
        return self._mget("institutions", institution_ids)

    def get_records(self, event_ids: list[str]) -> dict[str, dict[str, Any]]:
        return self._mget("records", event_ids)

    def get_states(self, record_ids: list[str]) -> dict[str, dict[str, Any]]:
        return self._mget("states", record_ids)

    def states(self, query: StateQuery) -> Iterator[dict[str, Any]]:
        filters: list[dict[str, Any]] = []
        if query.kinds:
            filters.append({"terms": {"kind": list(query.kinds)}})
        if query.region is not None:
            filters.append({"term": {"region_path": query.region}})
        if query.institution_id is not None:
            filters.append({"term": {"institution_id": query.institution_id}})
        if query.statuses:
            filters.append({"terms": {"status": list(query.statuses)}})
        if query.between is not None:
            start, end = query.between
            filters.append({"range": {"opened_on": {"lte": end}}})
            filters.append({"bool": {"should": [{"bool": {"must_not": {"exists": {"field": "ended_on"}}}},
                                                {"range": {"ended_on": {"gte": start}}}], "minimum_should_match": 1}})
        body: dict[str, Any] = {"query": {"bool": {"filter": filters, "must_not": [] if query.retracted else [{"term": {"status": "retracted"}}]}},
                                "sort": [{"id": "asc"}], "size": 2000, "_source": ["doc"]}
        while True:
            hits = self.es.search(index=self.aliases["states"], **body)["hits"]["hits"]
            for hit in hits:
                yield hit["_source"]["doc"]
            if len(hits) < 2000:
                return
            body["search_after"] = hits[-1]["sort"]

    def documents(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        from elasticsearch.helpers import scan

        for kind, alias in (("institution", "institutions"), ("record", "records"), ("state", "states")):
            for hit in scan(self.es, index=self.aliases[alias], query={"query": {"match_all": {}}}, _source=["doc"], size=2000):
                yield kind, hit["_id"], hit["_source"]["doc"]

    def _position_id(self) -> str:
        return f"g{self.generation()}"

    def position(self, position_id: str | None = None) -> dict[str, Any]:
        try:
            source = self.es.get(index=self.state_index, id=position_id or self._position_id())["_source"]
            return {"seq": source["seq"], "cursor": source["cursor"], "hash": source["hash"]}
        except NotFoundError:
            return {"seq": 0, "cursor": 0, "hash": GENESIS_HASH}

    def upsert(self, documents: list[dict[str, Any]], position: dict[str, Any] | None, records: list[dict[str, Any]] = (),
               states: list[dict[str, Any]] = (), *, targets: dict[str, str] | None = None, position_id: str | None = None) -> None:
        """Write documents (stale versions refused by Elasticsearch); with a position, refresh what
        was written since the last one, then store it. Writes go to the aliases, or to ``targets``
        (concrete index names) while a rebuild fills a generation."""
        if not self.created:
            self._ensure()  # never let a write auto-create an index without the mappings
        targets = targets or self.aliases
        operations: list[dict[str, Any]] = []
        for d in documents:
            operations.append({"index": {"_index": targets["institutions"], "_id": d["id"], "version": d["seq"], "version_type": "external"}})
            operations.append({**institution_fields(d), "doc": d})
        for r in records:
            operations.append({"index": {"_index": targets["records"], "_id": r["id"], "version": r["version"], "version_type": "external"}})
            operations.append({**{f: r[f] for f in RECORD_FIELDS}, "institution_name": r["institution_name"] or "", "doc": r})
        for state in states:
            operations.append({"index": {"_index": targets["states"], "_id": state["id"], "version": state["seq"], "version_type": "external"}})
            columns = row(state)
            operations.append({**columns, "region_path": parents(columns["region_code"]) if columns["region_code"] else [], "doc": state})
        unrefreshed = self._unrefreshed
        if operations:
            # A published batch alone since the last position is made searchable by its own bulk
            # request (refresh=True: the shards it wrote); after unpublished ones, every index is.
            response = self.es.bulk(operations=operations, refresh=position is not None and not unrefreshed)
            if response["errors"]:
                failures = [
                    item["index"] for item in response["items"]
                    if "error" in item["index"] and item["index"]["status"] != 409  # 409: already newer
                ]
                if failures:
                    raise RuntimeError(f"Elasticsearch refused documents: {failures[:3]}")
        if position is None:
            self._unrefreshed = unrefreshed or bool(operations)
            return
        if unrefreshed:
            self.es.indices.refresh(index=",".join(targets.values()))
            self._unrefreshed = False
        try:
            self.es.index(
                index=self.state_index, id=position_id or self._position_id(), document=position,
                version=position["seq"], version_type="external_gte",
            )
        except ConflictError:
            pass  # a position at or beyond this one is already stored

    def generation_view(self, targets: dict[str, str], position_id: str) -> ElasticSearchIndex:
        """This index seen through one generation's concrete indices and position (for a rebuild)."""
        view = object.__new__(GenerationView)
        view.es, view.prefix, view.aliases, view.state_index = self.es, self.prefix, targets, self.state_index
        view.fixed_position_id = position_id
        view.created = True  # the rebuild made the generation's indices
        view._unrefreshed = False
        return view

    def rebuild(self, project_into) -> int:
        """Build the next generation with ``project_into(targets, position_id)`` (which projects
        the whole feed into those concrete indices), swap both aliases at once, drop the old."""
        if not self.created:
            self._ensure()
        old = self.generation()
        new = old + 1
        targets = {kind: self._name(kind, new) for kind in MAPPINGS}
        for kind, mappings in MAPPINGS.items():
            self.es.options(ignore_status=404).indices.delete(index=targets[kind])
            self._create(targets[kind], mappings)
        self.es.options(ignore_status=404).delete(index=self.state_index, id=f"g{new}")
        project_into(targets, f"g{new}")
        actions = []
        for kind in MAPPINGS:
            actions.append({"remove": {"index": self._name(kind, old), "alias": self.aliases[kind]}})
            actions.append({"add": {"index": targets[kind], "alias": self.aliases[kind]}})
        self.es.indices.update_aliases(actions=actions)
        for kind in MAPPINGS:
            self.es.options(ignore_status=404).indices.delete(index=self._name(kind, old))
        return new

    # --- queries ---------------------------------------------------------------------------------

    def _run(self, kind: str, filters: list[dict[str, Any]], sort: list[dict[str, Any]], query_sort: str,
             search_after: list[Any] | None, size: int, facets: tuple[str, ...] | None) -> SearchResult:
        body: dict[str, Any] = {
            "query": {"bool": {"filter": filters}},
            "sort": sort,
            "size": size + 1,
            "track_total_hits": True,
            "_source": ["doc"],
        }
        if search_after is not None:
            body["search_after"] = search_after
        if facets:
            body["aggs"] = {name: {"terms": {"field": name, "size": 5000}} for name in facets}
        response = self.es.search(index=self.aliases[kind], **body)
        raw = response["hits"]["hits"]
        hits = [h["_source"]["doc"] for h in raw[:size]]
        next_cursor = None
        if len(raw) > size:
            sort_values = raw[size - 1]["sort"]  # Elasticsearch's own sort values: search_after takes them back
            next_cursor = encode_cursor(query_sort, (sort_values + [raw[size - 1]["_id"]])[:2])
        counted = None
        if facets:
            counted = {
                name: {facet_key(b.get("key_as_string", b["key"]) if name != "listed" else b["key"] == 1): b["doc_count"]
                       for b in response["aggregations"][name]["buckets"]}
                for name in facets
            }
        return SearchResult(total=response["hits"]["total"]["value"], hits=hits, next_cursor=next_cursor, facets=counted)

    def search(self, query: InstitutionQuery) -> SearchResult:
        filters: list[dict[str, Any]] = []
        if query.q is not None:
            if query.is_credit_code:
                filters.append({"term": {"credit_code": query.q.upper()}})
            else:
                should = [_wildcard("name", query.q), _wildcard("address", query.q), {"term": {"receipt_no": query.q}}]
                if query.is_letters:
                    should += [_wildcard("name_pinyin", query.q.lower()), _wildcard("name_initials", query.q.lower())]
                filters.append({"bool": {"should": should, "minimum_should_match": 1}})
        if query.region is not None:
            filters.append({"term": {"region_path": query.region}})
        for name, value in (("status", query.status), ("grade_level", query.grade), ("listed", query.listed),
                            ("open_major_hazard", query.open_major_hazard)):
            if value is not None:
                filters.append({"term": {name: value}})
        if query.status is None:  # a retracted registration only when asked for by its status
            filters.append({"bool": {"must_not": {"term": {"status": "retracted"}}}})
        sort = [{"name": "asc"}, {"id": "asc"}] if query.sort == "name" else [{"seq": "desc"}, {"id": "asc"}]
        after = decode_cursor(query.cursor, query.sort) if query.cursor else None
        facets = INSTITUTION_FACETS if query.facets else None
        return self._run("institutions", filters, sort, query.sort, after, query.size, facets)

    def search_records(self, query: RecordQuery) -> SearchResult:
        filters: list[dict[str, Any]] = []
        if query.q is not None:
            should = [_wildcard(f, query.q) for f in ("institution_name", "summary", "document_no")]
            filters.append({"bool": {"should": should, "minimum_should_match": 1}})
        if query.region is not None:
            filters.append({"term": {"region_path": query.region}})
        for name, value in (("institution_id", query.institution_id), ("department", query.department),
                            ("event_type", query.event_type), ("aggregate_type", query.aggregate_type)):
            if value is not None:
                filters.append({"term": {name: value}})
        dates = {k: v.isoformat() for k, v in (("gte", query.date_from), ("lte", query.date_to)) if v is not None}
        if dates:
            filters.append({"range": {"occurred_at": dates}})
        if query.since_seq is not None:
            filters.append({"range": {"seq": {"gt": query.since_seq}}})
        if query.sort == "seq":
            sort = [{"seq": "asc"}]
            after = decode_cursor(query.cursor, "seq")[:1] if query.cursor else None
        else:
            sort = [{"occurred_at": "desc"}, {"seq": "desc"}]
            after = decode_cursor(query.cursor, "recent") if query.cursor else None
        facets = RECORD_FACETS if query.facets else None
        return self._run("records", filters, sort, query.sort, after, query.size, facets)


class GenerationView(ElasticSearchIndex):
    """Reads and writes one generation directly, with that generation's own position."""

    fixed_position_id: str

    def _position_id(self) -> str:
        return self.fixed_position_id

    def close(self) -> None:  # the client belongs to the index it was made from
        pass
