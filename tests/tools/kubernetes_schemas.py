"""Kubernetes JSON Schemas for kubeconform, made from the OpenAPI document Kubernetes itself
publishes (``api/openapi-spec/swagger.json`` in the k8s.io/kubernetes module, fetched through the Go
module proxy — kubeconform's default schema location is GitHub, which this network cannot reach).

The conversion is the one openapi2jsonschema makes for kubeconform's ``-standalone-strict`` schemas:
one file per kind and API version, named as kubeconform looks it up
(``{kind}-{group's first label}-{version}.json``, ``{kind}-{version}.json`` for the core group), holding
the kind's definition and every definition it reaches; objects refuse properties the API does not
define (strict); int-or-string and quantity fields accept a string or a number, as the API server does.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

INT_OR_STRING = {"oneOf": [{"type": "string"}, {"type": "integer"}]}
QUANTITY = {"oneOf": [{"type": "string"}, {"type": "number"}]}


def swagger(version: str) -> dict[str, Any]:
    """Kubernetes ``version``'s OpenAPI v2 document, from the Go module cache (downloaded once)."""
    done = subprocess.run(["go", "mod", "download", "-json", f"k8s.io/kubernetes@v{version}"], capture_output=True,
                          text=True, check=True, env=dict(os.environ, GOFLAGS="-mod=mod"))
    directory = Path(json.loads(done.stdout)["Dir"])
    return json.loads((directory / "api" / "openapi-spec" / "swagger.json").read_text())


def _fix(node: Any) -> Any:
    if isinstance(node, dict):
        if node.get("format") == "int-or-string":
            return {k: v for k, v in node.items() if k not in ("type", "format")} | INT_OR_STRING
        node = {k: _fix(v) for k, v in node.items()}
        if node.get("type") == "object" and "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        return node
    if isinstance(node, list):
        return [_fix(v) for v in node]
    return node


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"].rsplit("/", 1)[1]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node))
    return set()


def write_schemas(version: str, out: Path) -> Path:
    """Write ``out/v{version}-standalone-strict/*.json``; return that directory."""
    definitions = swagger(version)["definitions"]
    fixed = {name: _fix(schema) for name, schema in definitions.items()}
    fixed["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] = INT_OR_STRING
    fixed["io.k8s.apimachinery.pkg.api.resource.Quantity"] = QUANTITY
    target = out / f"v{version}-standalone-strict"
    target.mkdir(parents=True, exist_ok=True)
    for name, schema in fixed.items():
        for gvk in definitions[name].get("x-kubernetes-group-version-kind", []):
            reached, pending = set(), {name}
            while pending:
                current = pending.pop()
                reached.add(current)
                pending |= _refs(fixed[current]) - reached
            document = {"$ref": f"#/definitions/{name}", "definitions": {n: fixed[n] for n in sorted(reached)}}
            group = gvk["group"].split(".")[0]
            suffix = f"-{group.lower()}-{gvk['version'].lower()}" if group else f"-{gvk['version'].lower()}"
            (target / f"{gvk['kind'].lower()}{suffix}.json").write_text(json.dumps(document))
    return target
