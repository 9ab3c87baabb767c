"""SearchIndex on Elasticsearch (the cluster profile).

The server is the plain Elasticsearch distribution with no analysis plugins, so substring matching
uses case-insensitive ``wildcard`` queries on keyword fields: exactly the substring semantics of
the embedded backend, for two-character Chinese queries too. Documents are written with
``version_type=external`` and the ledger seq as version: Elasticsearch itself refuses a stale or
duplicate write, which is what makes replays harmless.

Index names are versioned behind an alias (``<prefix>-institutions`` → ``<prefix>-institutions-v1``)
so a rebuild can go to a new index and swap the alias.
"""

from __future__ import annotations

from typing import Any

from elasticsearch import ConflictError, Elasticsearch, NotFoundError

from events.envelope import GENESIS_HASH
from projections.search.index import SearchQuery, SearchResult, decode_cursor, encode_cursor

MAPPING_VERSION = 1
MAPPINGS = {
    "dynamic": "strict",
    "properties": {
        "id": {"type": "keyword"},
        "seq": {"type": "long"},
        "status": {"type": "keyword"},
        "name": {"type": "keyword"},
        "address": {"type": "keyword"},
        "credit_code": {"type": "keyword"},
        "receipt_no": {"type": "keyword"},
        "region_code": {"type": "keyword"},
        "region_path": {"type": "keyword"},
        "doc": {"type": "object", "enabled": False},
    },
}
SETTINGS = {"number_of_shards": 1, "number_of_replicas": 0}
POSITION_ID = "institutions"


def _wildcard_value(text: str) -> str:
    escaped = "".join("\\" + ch if ch in "*?\\" else ch for ch in text)
    return f"*{escaped}*"


def connect(url: str, user: str, password: str) -> Elasticsearch:
    auth = (user, password) if password else None
    return Elasticsearch(url, basic_auth=auth, request_timeout=30, retry_on_timeout=True, max_retries=3)


class ElasticSearchIndex:
    def __init__(self, client: Elasticsearch, prefix: str) -> None:
        self.es = client
        self.alias = f"{prefix}-institutions"
        self.index = f"{self.alias}-v{MAPPING_VERSION}"
        self.state_index = f"{prefix}-projection-state"
        self._ensure()

    def _ensure(self) -> None:
        if not self.es.indices.exists(index=self.index):
            try:
                self.es.indices.create(
                    index=self.index, mappings=MAPPINGS, settings=SETTINGS, aliases={self.alias: {}}
                )
            except Exception as error:  # created meanwhile by another process
                if "resource_already_exists_exception" not in str(error):
                    raise
        if not self.es.indices.exists(index=self.state_index):
            try:
                self.es.indices.create(
                    index=self.state_index,
                    settings=SETTINGS,
                    mappings={
                        "dynamic": "strict",
                        "properties": {"seq": {"type": "long"}, "cursor": {"type": "long"}, "hash": {"type": "keyword"}},
                    },
                )
            except Exception as error:
                if "resource_already_exists_exception" not in str(error):
                    raise

    def close(self) -> None:
        self.es.close()

    def get(self, institution_id: str) -> dict[str, Any] | None:
        try:
            return self.es.get(index=self.alias, id=institution_id)["_source"]["doc"]
        except NotFoundError:
            return None

    def get_many(self, institution_ids: list[str]) -> dict[str, dict[str, Any]]:
        if not institution_ids:
            return {}
        response = self.es.mget(index=self.alias, ids=institution_ids)
        return {d["_id"]: d["_source"]["doc"] for d in response["docs"] if d.get("found")}

    def position(self) -> dict[str, Any]:
        try:
            source = self.es.get(index=self.state_index, id=POSITION_ID)["_source"]
            return {"seq": source["seq"], "cursor": source["cursor"], "hash": source["hash"]}
        except NotFoundError:
            return {"seq": 0, "cursor": 0, "hash": GENESIS_HASH}

    def upsert(self, documents: list[dict[str, Any]], position: dict[str, Any]) -> None:
        if documents:
            operations: list[dict[str, Any]] = []
            for d in documents:
                operations.append(
                    {"index": {"_index": self.alias, "_id": d["id"], "version": d["seq"], "version_type": "external"}}
                )
                operations.append(
                    {
                        "id": d["id"], "seq": d["seq"], "status": d["status"], "name": d["name"],
                        "address": d["address"], "credit_code": d.get("credit_code"),
                        "receipt_no": d.get("receipt_no"), "region_code": d["region_code"],
                        "region_path": d["region_path"], "doc": d,
                    }
                )
            # refresh=True makes a batch searchable at once: one refresh per batch costs little
            # at high throughput (large batches) and keeps decision → searchable short at low.
            response = self.es.bulk(operations=operations, refresh=True)
            if response["errors"]:
                failures = [
                    item["index"] for item in response["items"]
                    if "error" in item["index"] and item["index"]["status"] != 409  # 409: already newer
                ]
                if failures:
                    raise RuntimeError(f"Elasticsearch refused documents: {failures[:3]}")
        try:
            self.es.index(
                index=self.state_index, id=POSITION_ID, document=position,
                version=position["seq"], version_type="external_gte",
            )
        except ConflictError:
            pass  # a position at or beyond this one is already stored

    def search(self, query: SearchQuery) -> SearchResult:
        filters: list[dict[str, Any]] = []
        if query.q is not None:
            q = query.q.strip()
            if query.is_credit_code:
                filters.append({"term": {"credit_code": q.upper()}})
            else:
                pattern = _wildcard_value(q)
                filters.append(
                    {
                        "bool": {
                            "should": [
                                {"wildcard": {"name": {"value": pattern, "case_insensitive": True}}},
                                {"wildcard": {"address": {"value": pattern, "case_insensitive": True}}},
                                {"term": {"receipt_no": q}},
                            ],
                            "minimum_should_match": 1,
                        }
                    }
                )
        if query.region is not None:
            filters.append({"term": {"region_path": query.region}})
        if query.status is not None:
            filters.append({"term": {"status": query.status}})
        body: dict[str, Any] = {
            "query": {"bool": {"filter": filters}},
            "sort": [{"name": "asc"}, {"id": "asc"}],
            "size": query.size + 1,
            "track_total_hits": True,
            "_source": ["doc"],
        }
        if query.cursor is not None:
            body["search_after"] = list(decode_cursor(query.cursor))
        response = self.es.search(index=self.alias, **body)
        raw = response["hits"]["hits"]
        hits = [h["_source"]["doc"] for h in raw[: query.size]]
        next_cursor = None
        if len(raw) > query.size:
            name, doc_id = raw[query.size - 1]["sort"]
            next_cursor = encode_cursor((name, doc_id))
        return SearchResult(total=response["hits"]["total"]["value"], hits=hits, next_cursor=next_cursor)
