"""The supervision ledger application: commands on aggregates, the event store, the sealer."""
