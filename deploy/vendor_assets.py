"""Refresh the browser assets the console serves from its own package (no request may leave a
government intranet): each is fetched from the npm registry at a pinned version, checked against
the registry's published integrity (SHA-512 of the package), and its file and licence copied into
services/console/static/vendor/ with a manifest (name, version, licence, SHA-256 of the file).

The copies are committed, so building, installing and running need no network; run this (``make
vendor``) only to change a version, then review the diff. A unit test holds the manifest to the
files.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "services" / "console" / "static" / "vendor"
ASSETS = (  # npm package, version, the registry's integrity, file in the package, licence file, licence
    ("htmx.org", "2.0.11", "sha512-Thx/WtpeOQqSrqBCw/A1cwGJGg4UrVa3+sW0GmrM3p4gJgO89ecH4qtbnyzDDWFvBTqjnIMCgELTNt636dtamA==",
     "package/dist/htmx.min.js", "package/LICENSE", "0BSD"),
)


def main() -> int:
    manifest = []
    with tempfile.TemporaryDirectory() as tmp:
        for package, version, integrity, member, licence_member, licence in ASSETS:
            subprocess.run(["npm", "pack", f"{package}@{version}", "--silent", "--pack-destination", tmp], check=True,
                           stdout=subprocess.DEVNULL)
            tarball = next(Path(tmp).glob(f"{package.replace('/', '-').lstrip('@')}-{version}.tgz"))
            digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
            if digest != integrity:
                print(f"{package}@{version}: integrity {digest} is not the pinned {integrity}", file=sys.stderr)
                return 1
            with tarfile.open(tarball) as archive:
                content = archive.extractfile(member).read()
                licence_text = archive.extractfile(licence_member).read()
            name = Path(member).name
            (VENDOR / name).write_bytes(content)
            (VENDOR / f"{name}.LICENSE").write_bytes(licence_text)
            manifest.append({"file": name, "package": package, "version": version, "licence": licence,
                             "source": f"https://registry.npmjs.org/{package}/-/{package.split('/')[-1]}-{version}.tgz",
                             "integrity": integrity, "sha256": hashlib.sha256(content).hexdigest()})
    (VENDOR / "ASSETS.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"vendored {len(manifest)} asset(s) into {VENDOR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
