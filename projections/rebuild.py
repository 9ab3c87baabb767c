"""Rebuild the Elasticsearch indices from the whole feed into a new generation, then swap the
aliases atomically: the old generation serves every query until the new one is complete."""

from __future__ import annotations

from collections.abc import Callable

from projections.feed import EventFeed
from projections.projector import SearchProjector
from projections.search.elastic import ElasticSearchIndex


def rebuild(index: ElasticSearchIndex, new_feed: Callable[[], EventFeed], *, batch_size: int = 1000) -> int:
    """Return the new generation number."""

    def project_into(targets: dict[str, str], position_id: str) -> None:
        feed = new_feed()
        try:
            SearchProjector(feed, index.generation_view(targets, position_id), batch_size=batch_size).catch_up()
        finally:
            feed.close()

    return index.rebuild(project_into)
