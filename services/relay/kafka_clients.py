"""How every Kafka client of the ledger (relay, projector, dead-letter producer) behaves when a
broker goes away and comes back.

kafka-python backs off reconnecting up to 30 s and lets a produced batch wait 120 s by default: a
fault round saw the relay's transactional producer sit ~2 minutes on a broker that was back after
15 s, and the projector behind it. Reconnect attempts are capped at 2 s apart, requests time out
after 15 s, and a batch that cannot be delivered in 30 s fails — the relay then exits, its
supervisor restarts it, and the new producer fences the old one and resumes from the topic.
"""

RECONNECT = {"reconnect_backoff_max_ms": 2000, "request_timeout_ms": 15000}
PRODUCER = RECONNECT | {"delivery_timeout_ms": 30000}
