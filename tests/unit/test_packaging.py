"""The package works where operators install it: a wheel built from the tracked files, installed
into a fresh virtual environment outside the checkout, runs `eldercare --version`, `eldercare demo`
and serves a public search — its data files (region table, JSON Schemas, VERIFICATION.md, the site's
theme and pages) travel with it.

The fresh environment holds our wheel alone; the third-party libraries are the checkout's, already
installed from requirements.lock, made visible by a path file (their editable hook for this
checkout is not processed there, so nothing of ours can come from the checkout)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run(*command, cwd: Path, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    result = subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{command}: {result.stdout[-2000:]}{result.stderr[-2000:]}"
    return result


def test_the_wheel_runs_outside_the_checkout(tmp_path):
    source = tmp_path / "source"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, tracked):
        if (REPO / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "ELDERCARE_", "VIRTUAL_ENV"))}
    env |= {"PYTHONNOUSERSITE": "1"}
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp_path / "dist", source, cwd=tmp_path, env=env)
    (wheel,) = (tmp_path / "dist").glob("eldercare_ledger-*.whl")

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path, env=env)
    run(venv / "bin" / "python", "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel, cwd=tmp_path, env=env)
    purelib = Path(run(venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                       cwd=tmp_path, env=env).stdout.strip())
    (purelib / "checkout-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    work = tmp_path / "elsewhere"
    work.mkdir()
    env |= {"ELDERCARE_DATA_DIR": str(work / "var")}
    assert run(venv / "bin" / "eldercare", "--version", cwd=work, env=env).stdout.strip() == "eldercare 0.1.0"
    where = run(venv / "bin" / "python", "-c", "import events, public_site; print(events.__file__, public_site.__file__)",
                cwd=work, env=env).stdout
    assert str(REPO) not in where and str(venv) in where
    run(venv / "bin" / "eldercare", "demo", cwd=work, env=env)
    assert (work / "var" / "site" / "index.html").is_file() and (work / "var" / "site" / "pages" / "verification.html").is_file()
    smoke = (
        "from fastapi.testclient import TestClient\n"
        "from services.api.app import create_app\n"
        "from services.bootstrap import build_runtime\n"
        "from services.settings import Settings\n"
        "runtime = build_runtime(Settings.from_env())\n"
        "with TestClient(create_app(runtime)) as client:\n"
        "    found = client.get('/v1/public/search', params={'q': '镇江'})\n"
        "    assert found.status_code == 200 and found.json()['total'] > 0, found.text\n"
        "    assert client.get('/site/index.html').status_code == 200\n"
        "    assert client.get('/openapi.json').status_code == 200\n"
        "    assert client.get('/console/sign-in').status_code == 200\n"
        "    assert client.get('/console/static/console.css').status_code == 200\n"
        "    assert client.get('/docs-assets/swagger-ui-bundle.js').status_code == 200\n"
        "runtime.close()\n"
        "print('smoke ok')\n"
    )
    assert "smoke ok" in run(venv / "bin" / "python", "-c", smoke, cwd=work, env=env).stdout


def test_the_command_line_explains_itself_and_hides_fault_injection(capsys):
    import argparse

    from services import cli

    assert cli.main([]) == 0 and "命令" in capsys.readouterr().out  # `eldercare` alone prints the help
    assert cli.main(["audit"]) == 0 and "verify" in capsys.readouterr().out

    def commands(parser: argparse.ArgumentParser, path=()):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    yield (*path, name), child
                    yield from commands(child, (*path, name))

    everything = list(commands(cli.parser()))
    assert len(everything) > 20
    assert [path for path, child in everything if not child.description] == []
    relay = dict(everything)[("relay",)]
    assert "--send-delay-ms" not in relay.format_help()
