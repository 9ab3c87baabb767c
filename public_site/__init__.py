"""The public disclosure site: a Pelican project rendered from disclosure snapshots."""
