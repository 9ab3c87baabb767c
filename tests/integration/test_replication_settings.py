"""The copies the servers keep are configuration: the ledger topic is created with the configured
replication factor and min.insync.replicas, and every index with the configured replicas (an
existing index follows a change). On the single-node servers a factor of 2 is refused by Kafka
itself — the setting reaches the broker rather than a constant."""

from __future__ import annotations

import uuid

import pytest
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient
from kafka.errors import InvalidReplicationFactorError

from projections.search.elastic import ElasticSearchIndex, connect
from services.relay.kafka_relay import ensure_topic
from services.settings import Replication

pytestmark = pytest.mark.servers


def test_the_topic_is_created_with_the_configured_copies(local_servers):
    bootstrap = local_servers["ELDERCARE_KAFKA_BOOTSTRAP"]
    topic = f"eldercare.replication-{uuid.uuid4().hex[:8]}"
    ensure_topic(bootstrap, topic, Replication(kafka_replication_factor=1, kafka_min_insync_replicas=1))
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        [description] = admin.describe_topics([topic])
        assert [len(p["replica_nodes"]) for p in description["partitions"]] == [1]
        config = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs=["min.insync.replicas"])])
        setting = config["topic"][topic]["min.insync.replicas"]
        assert (setting["value"], setting["config_source"]) == ("1", "DYNAMIC_TOPIC_CONFIG")
        with pytest.raises(InvalidReplicationFactorError):
            ensure_topic(bootstrap, f"{topic}-x", Replication(kafka_replication_factor=2, kafka_min_insync_replicas=2))
        admin.delete_topics([topic])
    finally:
        admin.close()


def test_indices_are_created_with_the_configured_replicas_and_follow_a_change(local_servers):
    client = connect(local_servers["ELDERCARE_ES_URL"], local_servers["ELDERCARE_ES_USER"], local_servers["ELDERCARE_ES_PASSWORD"])
    prefix = f"replicas-{uuid.uuid4().hex[:8]}"

    def replicas() -> set[str]:
        found = client.indices.get_settings(index=f"{prefix}-*", name="index.number_of_replicas")
        return {s["settings"]["index"]["number_of_replicas"] for s in found.values()}

    try:
        ElasticSearchIndex(client, prefix, replicas=1)
        assert replicas() == {"1"}
        ElasticSearchIndex(client, prefix, replicas=0)
        assert replicas() == {"0"}
    finally:
        client.options(ignore_status=404).indices.delete(index=f"{prefix}-*")
        client.close()
