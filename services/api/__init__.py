"""The HTTP API departments use: commands and queries over the ledger."""
