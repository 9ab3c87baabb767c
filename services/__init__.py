"""The write side and the processes of the supervision ledger."""
