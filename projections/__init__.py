"""Read sides built from the sealed log: search indexes and disclosure snapshots."""
