"""The Helm chart (deploy/helm/eldercare) as CI can hold it without a cluster: `helm lint`,
`helm template` for the oldest and newest Kubernetes it supports, every rendered object validated by
kubeconform against Kubernetes' own OpenAPI schemas (strict: no field Kubernetes does not define);
its values schema and guards refuse impossible settings; the settings it gives the processes are the
ones they read and make a valid cluster configuration; its images take the registry prefix; the
alerting rules pass Prometheus's own rule parser. Each check is shown to fail on a broken input."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from services.cli import parser
from services.ledger.signing_key import generate_key_file
from services.settings import Settings
from tests.go_tools import go_tool
from tests.tools.kubernetes_schemas import write_schemas

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "deploy" / "helm" / "eldercare"
KUBERNETES = ("1.27.16", "1.37.2")  # the chart's kubeVersion floor, and the newest release


def helm(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([go_tool("helm"), *args], capture_output=True, text=True)


def render(*sets: str, kube: str = KUBERNETES[-1]) -> str:
    done = helm("template", "prov", str(CHART), "--kube-version", kube, *(a for s in sets for a in ("--set", s)))
    assert done.returncode == 0, done.stderr
    return done.stdout


def objects(manifest: str) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(manifest) if doc]


def pod_specs(rendered: list[dict]) -> list[dict]:
    pods = [o["spec"]["template"]["spec"] for o in rendered if o["kind"] == "Deployment"]
    return pods + [o["spec"]["jobTemplate"]["spec"]["template"]["spec"] for o in rendered if o["kind"] == "CronJob"]


@pytest.fixture(scope="module")
def schemas(tmp_path_factory):
    root = tmp_path_factory.mktemp("kubernetes-json-schema")
    for version in KUBERNETES:
        write_schemas(version, root)
    return root


def kubeconform(schemas: Path, manifest: str, kube: str) -> subprocess.CompletedProcess:
    location = f"{schemas}/{{{{ .NormalizedKubernetesVersion }}}}-standalone{{{{ .StrictSuffix }}}}/{{{{ .ResourceKind }}}}{{{{ .KindSuffix }}}}.json"
    return subprocess.run([go_tool("kubeconform"), "-strict", "-summary", "-kubernetes-version", kube,
                           "-schema-location", location, "-skip", "PrometheusRule", "-"],
                          input=manifest, capture_output=True, text=True)


def test_helm_lint_passes_strictly():
    done = helm("lint", str(CHART), "--strict")
    assert done.returncode == 0 and "0 chart(s) failed" in done.stdout, done.stdout + done.stderr


@pytest.mark.parametrize("kube", KUBERNETES)
def test_every_rendered_object_is_valid_kubernetes(schemas, kube):
    for variant in ((), ("ingress.enabled=true", "ingress.tlsSecretName=eldercare-tls", "console.clientSecret.name=oidc",
                         "api.replicas=3", "imagePullSecrets[0].name=mirror")):
        manifest = render(*variant, kube=kube)
        kinds = sorted(o["kind"] for o in objects(manifest))
        assert {"ConfigMap", "CronJob", "Deployment", "PersistentVolumeClaim", "PodDisruptionBudget", "Service"} <= set(kinds)
        done = kubeconform(schemas, manifest, kube)
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"Valid: {len(kinds)}, Invalid: 0, Errors: 0" in done.stdout, done.stdout
    # The check can fail: a field Kubernetes does not define, and a wrong type.
    broken = manifest.replace("  replicas: 3\n", "  replicas: \"three\"\n", 1).replace("concurrencyPolicy: Forbid", "concurrencyPolicy: Forbid\n  retries: 2", 1)
    done = kubeconform(schemas, broken, kube)
    assert done.returncode == 1 and "Invalid: 2" in done.stdout, done.stdout


def test_impossible_values_are_refused_before_anything_is_applied():
    for sets, message in ((("kafka.minInsyncReplicas=4",), "cannot exceed kafka.replicationFactor"),
                          (("persistence.accessMode=ReadWriteOnce",), "allows one API replica"),
                          (("elasticsearch.replicas=-1",), "minimum"),
                          (("eventStore.url=postgresql://eldercare:secret@db:5432/eldercare",), "eventStore/url"),
                          (("image.pullPolicy=Sometimes",), "pullPolicy"),
                          (("unknownSetting=1",), "unknownSetting")):
        done = helm("template", "prov", str(CHART), "--kube-version", KUBERNETES[-1], *(a for s in sets for a in ("--set", s)))
        assert done.returncode == 1 and message in done.stderr, (sets, done.stderr)
    assert render("persistence.accessMode=ReadWriteOnce", "api.replicas=1")


def test_the_processes_get_commands_that_exist_and_settings_they_read(tmp_path):
    rendered = objects(render("console.clientSecret.name=oidc", "site.url=https://ylfw.example.gov.cn/site/",
                              "site.publisher=某省民政厅"))
    [config] = [o for o in rendered if o["kind"] == "ConfigMap"]
    env = config["data"]
    known = set(re.findall(r"ELDERCARE_[A-Z_]+", (REPO / "services" / "settings.py").read_text()))
    known |= set(re.findall(r'"(ELDERCARE_SITE_[A-Z_]+)"', (REPO / "public_site" / "identity.py").read_text()))
    assert set(env) - {f"{name}_FILE" for name in known} <= known, set(env) - known
    # Every secret the settings name as a file is mounted at that path.
    pods = pod_specs(rendered)
    assert len(pods) == 4
    for pod in pods:
        [container] = pod["containers"]
        parser().parse_args(container["args"])  # exits (fails the test) if the command does not exist
        [secrets] = [v for v in pod["volumes"] if v["name"] == "secrets"]
        mounted = {"/run/secrets/eldercare/" + item["path"] for source in secrets["projected"]["sources"]
                   for item in source["secret"]["items"]}
        assert {v for k, v in env.items() if k.endswith("_FILE")} == mounted
        assert container["securityContext"]["readOnlyRootFilesystem"] and pod["securityContext"]["runAsNonRoot"]
    # With those files in place the settings make a valid cluster configuration.
    files = {path: tmp_path / Path(path).name for path in mounted}
    generate_key_file(files["/run/secrets/eldercare/checkpoint-key.pem"])
    for path, local in files.items():
        if not local.exists():
            local.write_text("s3cret")
    local_env = {k: str(files.get(v, v)) for k, v in env.items()} | {"ELDERCARE_DATA_DIR": str(tmp_path / "data")}
    settings = Settings.from_env(local_env)
    assert settings.profile == "cluster" and settings.replication.kafka_replication_factor == 3
    assert settings.event_store == "postgresql://eldercare:s3cret@eldercare-postgres-rw:5432/eldercare"
    assert settings.oidc_client_secret == "s3cret" and settings.site.publisher == "某省民政厅"


def test_images_take_the_registry_prefix_and_the_projects_version():
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["appVersion"] == version
    images = {c["image"] for pod in pod_specs(objects(render("image.registry=registry.example.gov.cn")))
              for c in pod["containers"]}
    assert images == {f"registry.example.gov.cn/eldercare/eldercare-ledger:{version}"}


def test_the_alerting_rules_pass_prometheus_own_parser_and_the_chart_carries_them(tmp_path):
    alerts = REPO / "deploy" / "monitoring" / "alerts.yaml"
    done = subprocess.run([go_tool("promrules"), str(alerts)], capture_output=True, text=True)
    assert done.returncode == 0 and re.search(r": \d+ rules", done.stdout), done.stderr
    broken = tmp_path / "alerts.yaml"
    broken.write_text(alerts.read_text(encoding="utf-8").replace("== 0", "== == 0", 1), encoding="utf-8")
    done = subprocess.run([go_tool("promrules"), str(broken)], capture_output=True, text=True)
    assert done.returncode == 1 and "parse error" in done.stderr, done.stderr
    [rule] = [o for o in objects(render("prometheusRule.enabled=true")) if o["kind"] == "PrometheusRule"]
    assert rule["spec"] == yaml.safe_load(alerts.read_text(encoding="utf-8"))
