"""Process logs: plain text for a person at a terminal (default), or one JSON object per line for
a log pipeline (``ELDERCARE_LOG_FORMAT=json``): ``at`` (UTC), ``level``, ``logger``, ``message``,
``process`` and, for a failure, ``exception``. A message that is itself a JSON object (the
``eldercare.alerts`` lines) is merged in as fields, so alerts can be matched on ``alert``."""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import datetime, timezone

TEXT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        entry: dict = {
            "at": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "process": record.process,
        }
        try:
            fields = json.loads(message) if message.startswith("{") else None
        except ValueError:
            fields = None
        if isinstance(fields, dict):
            entry |= {k: v for k, v in fields.items() if k not in entry}
        else:
            entry["message"] = message
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(level: int = logging.WARNING, env: dict[str, str] | None = None, *, stdout=None) -> None:
    """Process logs on stderr at ``level``; the request audit log (``eldercare.requests``, one JSON
    object per request) on stdout, whatever the level, for the operators' log pipeline — besides its
    own file (services/api/request_log.py)."""
    env = os.environ if env is None else env
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines() if env.get("ELDERCARE_LOG_FORMAT", "text") == "json" else logging.Formatter(TEXT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    requests = logging.getLogger("eldercare.requests")
    audit = logging.StreamHandler(stdout or sys.stdout)
    audit.setFormatter(logging.Formatter("%(message)s"))  # each message is already one JSON object
    requests.handlers[:] = [audit]
    requests.setLevel(logging.INFO)
    requests.propagate = False
