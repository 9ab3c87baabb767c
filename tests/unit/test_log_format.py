"""Process logs as JSON lines for a log pipeline; alerts arrive as fields one can match on."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

from services.log_format import JsonLines
from tests.processes import REPO


def test_json_lines_carry_level_logger_fields_and_exceptions():
    formatter = JsonLines()
    alert = logging.LogRecord("eldercare.alerts", logging.ERROR, __file__, 1,
                              json.dumps({"alert": "poison_message", "offset": 7, "level": "spoofed"}), None, None)
    entry = json.loads(formatter.format(alert))
    assert entry["alert"] == "poison_message" and entry["offset"] == 7
    assert entry["level"] == "ERROR" and entry["logger"] == "eldercare.alerts" and entry["at"].endswith("+00:00")
    try:
        raise ValueError("失败了")
    except ValueError:
        failed = logging.LogRecord("eldercare.relay", logging.ERROR, __file__, 1, "relay failed", None, sys.exc_info())
    entry = json.loads(formatter.format(failed))
    assert entry["message"] == "relay failed" and "ValueError: 失败了" in entry["exception"]


def test_the_environment_switches_a_process_to_json_lines(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "ELDERCARE_LOG_FORMAT": "json"}
    done = subprocess.run([sys.executable, "-c", "import logging, services.log_format as f; f.configure(); "
                           "logging.getLogger('eldercare.test').warning('你好')"], env=env, cwd=REPO, capture_output=True, text=True)
    line = json.loads(done.stderr.strip().splitlines()[-1])
    assert line["message"] == "你好" and line["level"] == "WARNING" and line["logger"] == "eldercare.test"
