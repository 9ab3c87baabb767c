"""Aggregates and the rules they enforce. No HTTP, SQL or Kafka in here."""
