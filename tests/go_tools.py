"""The Go programs some tests run (tests/tools: Go's sumdb/note, helm, kubeconform, Prometheus's
rule parser), built into var/tools by `make go-tools`, or here when a run of pytest alone finds one
missing."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TOOLS = REPO / "var" / "tools"


def go_tool(name: str) -> Path:
    tool = TOOLS / name
    if not tool.exists():
        subprocess.run(["make", "-C", str(REPO), "go-tools"], check=True, capture_output=True)
    return tool
