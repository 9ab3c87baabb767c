"""The arrows of ARCHITECTURE.md: events imports nothing of ours, and no storage or transport —
it is the published language and the verification primitives; projections never import
services; the write side (services/domain, services/ledger, services/relay) never imports
projections. Only the composition root, the entrypoints, the read side's adapters (the feeds, the
site publication) and the auditors' side (which replays the read models as of past moments) see
both."""

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ENTRYPOINTS = {"services/bootstrap.py", "services/cli.py"}
READ_SIDE_ADAPTERS = {"services/feeds.py", "services/publication.py"}
STORAGE_AND_TRANSPORT = {"sqlite3", "psycopg", "psycopg_pool", "kafka", "eventsourcing", "elasticsearch", "elastic_transport",
                         "urllib", "http", "socket", "threading"}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def modules(folder: str):
    return [p for p in (REPO / folder).rglob("*.py")]


def test_events_imports_nothing_of_ours():
    for path in modules("events"):
        assert not imported_roots(path) & {"services", "projections", "public_site"}, path


def test_events_holds_no_storage_or_transport():
    for path in modules("events"):
        assert not imported_roots(path) & STORAGE_AND_TRANSPORT, path


def test_projections_never_import_services():
    for path in modules("projections"):
        assert "services" not in imported_roots(path), path


def test_the_write_side_never_imports_projections():
    for path in modules("services"):
        rel = path.relative_to(REPO).as_posix()
        if rel in ENTRYPOINTS | READ_SIDE_ADAPTERS or rel.startswith(("services/api/", "services/audit/")):
            continue
        assert "projections" not in imported_roots(path), rel


def test_the_site_reads_snapshots_not_code():
    for path in modules("public_site"):
        assert not imported_roots(path) & {"services", "projections"}, path


def test_the_code_passes_the_linter():
    # pyproject.toml [tool.ruff.lint] names the rules; ruff is a test dependency.
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--quiet", str(REPO)], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
