"""The auditors' side: checkpoints signed over the ledger, the verifier, replay as of any moment,
and reconciliation of the store, Kafka, the search index and the published site."""
