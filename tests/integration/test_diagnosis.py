"""The diagnosis in the workspace, end to end: a crash on a simulated cluster, reflected by the syncer, concluded by
the control plane's diagnosis controller, and read by the tenant with `kubectl describe deployment` alone. Every
part is a real process."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import KUBECTL, ApiServer, Kubectl
from tests.integration.simsupport import placed_tenant, running_syncer, simulated_cluster
from tests.integration.support import eventually, standalone_server, table_rows_by_name

WAIT = 90.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    base = tmp_path_factory.mktemp("diagnosis")
    with standalone_server(base / "server") as server, \
            simulated_cluster(base / "edge-1", name="edge-1", nodes=1, time_scale=0.01) as cluster, \
            running_syncer(server, cluster, base):
        yield server


def deployment(name: str, container: str) -> str:
    return textwrap.dedent(f"""\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {{name: {name}}}
        spec:
          replicas: 1
          selector: {{matchLabels: {{app: {name}}}}}
          template:
            metadata: {{labels: {{app: {name}}}}}
            spec:
              containers:
        """) + textwrap.indent(textwrap.dedent(container), "      ")


def kubectl_diagnose(kubectl: Kubectl, *args: str) -> str:
    """`kubectl diagnose ...` as a user types it: kubectl finds the plugin the project installed on PATH (kubectl
    refuses flags before a plugin's name, so the kubeconfig comes from KUBECONFIG)."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
           "KUBECONFIG": str(kubectl.kubeconfig)}
    result = subprocess.run([KUBECTL, "diagnose", *args], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def healthy_condition(kubectl: Kubectl, name: str) -> dict[str, Any] | None:
    status = json.loads(kubectl("get", "deployment", name, "-o", "json")).get("status") or {}
    return next((c for c in status.get("conditions") or [] if c["type"] == "Healthy"), None)


def test_an_oom_kill_is_explained_on_the_deployment_and_the_suggested_limit_heals_it(
        server: ApiServer, tmp_path: Path) -> None:
    ana = placed_tenant(server, tmp_path, "ana")
    ana("apply", "-f", "-", input=deployment("hog", """\
        - name: hog
          image: polinux/stress
          command: [stress]
          args: ["--vm", "1", "--vm-bytes", "150M"]
          resources: {limits: {memory: 100Mi}}
        """))
    condition = eventually(lambda: (c := healthy_condition(ana, "hog")) and c["status"] == "False" and c,
                           timeout=WAIT, what="the Healthy condition saying why")
    assert condition["reason"] == "OOMKilled"
    assert "went over its memory limit 100Mi" in condition["message"]
    assert "fix: raise limits.memory of hog from 100Mi to 200Mi" in condition["message"]
    described = ana("describe", "deployment", "hog")
    assert re.search(r"Healthy\s+False\s+OOMKilled", described), described
    wide = table_rows_by_name(ana("get", "deployment", "hog", "-o", "wide"))["hog"]
    assert wide["HEALTHY"] == "OOMKilled"
    assert "HEALTHY" not in ana("get", "deployment", "hog"), "a wide column only"
    assert re.search(r"Warning\s+OOMKilled\s+.*canopy-diagnosis\s+container hog went over", described), described

    ana("set", "resources", "deployment/hog", "-c", "hog", "--limits=memory=200Mi")
    healed = eventually(lambda: (c := healthy_condition(ana, "hog")) and c["status"] == "True" and c,
                        timeout=WAIT, what="the suggested limit making it healthy")
    assert healed["reason"] == "NoFailingPods"
    assert table_rows_by_name(ana("get", "deployment", "hog", "-o", "wide"))["hog"]["HEALTHY"] == "Yes"


def test_an_application_error_quotes_its_last_words_through_the_tunnel(server: ApiServer, tmp_path: Path) -> None:
    bea = placed_tenant(server, tmp_path, "bea")
    bea("apply", "-f", "-", input=deployment("api", """\
        - name: api
          image: busybox:1.36
          command: ["sh", "-c", "echo booting; echo 'fatal: DATABASE_URL is not set' >&2; exit 1"]
        """))
    condition = eventually(lambda: (c := healthy_condition(bea, "api")) and c["status"] == "False"
                           and "its last words" in c["message"] and c, timeout=WAIT,
                           what="the Healthy condition saying why, in the application's last words")
    assert condition["reason"] == "ApplicationError"
    assert "the application chose to exit with 1; its last words: fatal: DATABASE_URL is not set" in \
        condition["message"], "the previous container's log, read through the syncer's tunnel"
    events = json.loads(bea("get", "events", "--field-selector", "involvedObject.kind=Deployment", "-o",
                            "json"))["items"]
    assert [(e["type"], e["reason"]) for e in events if e["source"].get("component") == "canopy-diagnosis"] == [
        ("Warning", "ApplicationError")]


def test_a_healthy_deployment_is_left_alone(server: ApiServer, tmp_path: Path) -> None:
    cy = placed_tenant(server, tmp_path, "cy")
    cy("create", "deployment", "web", "--image=nginx:1.27", "--replicas=2")
    cy("rollout", "status", "deployment/web", "--timeout=60s")
    assert healthy_condition(cy, "web") is None
    assert "canopy-diagnosis" not in cy("get", "events", "-o", "wide")


def test_kubectl_diagnose_tells_cause_evidence_fix_and_keeps_a_copy_alive_to_look_into(
        server: ApiServer, tmp_path: Path) -> None:
    dee = placed_tenant(server, tmp_path, "dee")
    dee("apply", "-f", "-", input=deployment("worker", """\
        - name: worker
          image: busybox:1.36
          command: ["sh", "-c", "echo 'error: queue unreachable at amqp://mq:5672' >&2; exit 1"]
          livenessProbe: {exec: {command: ["true"]}}
        """))
    eventually(lambda: (c := healthy_condition(dee, "worker")) and c["status"] == "False", timeout=WAIT,
               what="the diagnosis")
    report = kubectl_diagnose(dee, "deploy/worker")
    assert report.startswith("Deployment worker in namespace default: 1 of 1 pods failing\n"), report
    assert re.search(r"^ApplicationError on cluster edge-1 \(container worker; pods worker-[a-z0-9-]+\.edge-1\)$",
                     report, re.M), report
    assert "    last log line: error: queue unreachable at amqp://mq:5672" in report
    assert re.search(r"^    kubectl logs worker-[a-z0-9-]+\.edge-1 -c worker --previous$", report, re.M), report
    assert "kubectl diagnose deploy/worker --keep-alive" in report

    machine = json.loads(kubectl_diagnose(dee, "deploy/worker", "-o", "json"))
    assert [(f["cause"], f["cluster"], f["container"]) for f in machine["findings"]] == [
        ("ApplicationError", "edge-1", "worker")]

    kept = kubectl_diagnose(dee, "deploy/worker", "--keep-alive")
    assert kept.startswith("deployment.apps/worker-debug created")
    debug = eventually(lambda: (r := dee("get", "pods", "-l", "diagnosis.canopy.dev/debug-of=worker", "-o",
                                         "json")) and [p for p in json.loads(r)["items"]
                                                       if p["status"].get("phase") == "Running"],
                       timeout=WAIT, what="the copy's pod running")
    assert debug[0]["spec"]["containers"][0]["command"] == ["sleep", "infinity"]
    assert "livenessProbe" not in debug[0]["spec"]["containers"][0]
    original = json.loads(dee("get", "deployment", "worker", "-o", "json"))
    assert original["spec"]["template"]["spec"]["containers"][0]["command"][0] == "sh", "the original is unchanged"

    assert kubectl_diagnose(dee, "deploy/worker", "--cleanup") == "deployment.apps/worker-debug deleted\n"
    assert dee.run("get", "deployment", "worker-debug", check=False).returncode != 0


# ---- the labelled set: one manifest per crash class, and controls ------------------------------------------------

# name -> (the container, the cause the diagnosis must conclude, words its message must contain, the fix a user
# would make as kubectl arguments, or None where the fix is not a manifest change). "" as cause: a control.
LABELLED: dict[str, tuple[str, str, str, list[str] | None]] = {
    "finishes": ('- {name: app, image: "busybox:1.36", command: ["sh", "-c", "echo all work done"]}',
                 "ProcessCompleted", "finished its work and exited 0", None),
    "exit-255": ('- {name: app, image: "busybox:1.36", command: ["sh", "-c", "exit 255"]}',
                 "ApplicationError", "it exited with 255", None),
    "segfault": ('- {name: app, image: "python:3.13", command: ["python3", "-c", '
                 '"import ctypes; ctypes.string_at(0)"]}',
                 "SegmentationFault", "segmentation fault (exit 139", None),
    "sigterm": ('- {name: app, image: "busybox:1.36", command: ["sh", "-c", "sleep 60 & kill -TERM $!; wait $!"]}',
                "Terminated", "SIGTERM (exit 143), and no probe did it", None),
    "start-error": ('- {name: app, image: "nginx:1.27", command: ["gunicorn", "app:main"]}',
                    "StartError", "could not start its command", None),
    "wrong-path": ("- {name: app, image: nginx:1.27, ports: [{containerPort: 80}], livenessProbe: {httpGet: "
                   "{path: /healthz, port: 80}, periodSeconds: 1, failureThreshold: 3}}",
                   "ProbeMisconfigured", "asks for /healthz, which the application does not serve (404)",
                   ["patch", "deployment/wrong-path", "--type=json", "-p", '[{"op": "replace", "path": '
                    '"/spec/template/spec/containers/0/livenessProbe/httpGet/path", "value": "/"}]']),
    "wrong-port": ("- {name: app, image: nginx:1.27, ports: [{containerPort: 80}], livenessProbe: {httpGet: "
                   "{path: /, port: 8080}, periodSeconds: 1, failureThreshold: 3}}",
                   "ProbeMisconfigured", "knocks on port 8080, where nothing listens",
                   ["patch", "deployment/wrong-port", "--type=json", "-p", '[{"op": "replace", "path": '
                    '"/spec/template/spec/containers/0/livenessProbe/httpGet/port", "value": 80}]']),
    "eager-probe": ("- {name: app, image: postgres:17, env: [{name: POSTGRES_PASSWORD, value: example}], "
                    "livenessProbe: {tcpSocket: {port: 5432}, periodSeconds: 1, failureThreshold: 1}}",
                    "ProbeMisconfigured", "found nothing listening on port 5432 within 1s",
                    ["patch", "deployment/eager-probe", "--type=json", "-p", '[{"op": "add", "path": '
                     '"/spec/template/spec/containers/0/livenessProbe/initialDelaySeconds", "value": 10}]']),
    "not-ready": ("- {name: app, image: nginx:1.27, readinessProbe: {httpGet: {path: /ready, port: 80}, "
                  "periodSeconds: 1}}", "ReadinessProbeFailing", "never becomes ready",
                  ["patch", "deployment/not-ready", "--type=json", "-p", '[{"op": "replace", "path": '
                   '"/spec/template/spec/containers/0/readinessProbe/httpGet/path", "value": "/"}]']),
    "typo": ("- {name: app, image: ngnix:1.27}", "ImagePullFailed", "did you mean nginx:1.27?",
             ["set", "image", "deployment/typo", "app=nginx:1.27"]),
    "no-config": ("- {name: app, image: nginx:1.27, envFrom: [{configMapRef: {name: app-config}}]}",
                  "MissingConfiguration", "create configmap app-config in namespace default",
                  ["create", "configmap", "app-config", "--from-literal=MODE=fast"]),
    "no-key": ("- {name: app, image: nginx:1.27, env: [{name: DB_PASSWORD, valueFrom: {secretKeyRef: "
               "{name: db, key: password}}}]}", "MissingConfiguration", "add the key password to Secret db",
               ["patch", "secret", "db", "-p", '{"stringData": {"password": "s3cret"}}']),
    "no-volume": ("- {name: app, image: nginx:1.27, volumeMounts: [{name: site, mountPath: /usr/share/nginx/html}]}",
                  "MissingConfiguration", "needs configmap site",
                  ["create", "configmap", "site", "--from-literal=index.html=hello"]),
    "too-big": ("- {name: app, image: nginx:1.27, resources: {requests: {memory: 64Gi}}}",
                "Unschedulable", "no node on cluster edge-1 has the memory",
                ["set", "resources", "deployment/too-big", "-c", "app", "--requests=memory=64Mi"]),
    "web": ("- {name: app, image: nginx:1.27}", "", "", None),
    "sleeper": ('- {name: app, image: "busybox:1.36", command: ["sleep", "infinity"]}', "", "", None),
    "slow-ready": ("- {name: app, image: nginx:1.27, readinessProbe: {httpGet: {path: /, port: 80}, "
                   "initialDelaySeconds: 100}}", "", "", None),
}


def labelled_manifest(name: str, container: str) -> str:
    manifest = deployment(name, container + "\n")
    if name == "no-volume":
        manifest += "      volumes:\n      - {name: site, configMap: {name: site}}\n"
    return manifest


@pytest.fixture(scope="module")
def labelled(server: ApiServer, tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    """One workspace with every manifest of the labelled set applied at once."""
    kubectl = placed_tenant(server, tmp_path_factory.mktemp("labelled"), "eve")
    kubectl("create", "secret", "generic", "db", "--from-literal=user=app")
    for name, (container, *_) in LABELLED.items():
        kubectl("apply", "-f", "-", input=labelled_manifest(name, container))
    return kubectl


@pytest.mark.parametrize("name", [n for n, (_, cause, *_) in LABELLED.items() if cause])
def test_every_crash_class_is_diagnosed_with_its_cause(labelled: Kubectl, name: str) -> None:
    _, cause, words, _ = LABELLED[name]
    condition = eventually(lambda: (c := healthy_condition(labelled, name)) and c["status"] == "False" and c,
                           timeout=WAIT, what=f"the diagnosis of {name}")
    assert (condition["reason"], words in condition["message"]) == (cause, True), condition["message"]


@pytest.mark.parametrize("name", [n for n, (_, _, _, fix) in LABELLED.items() if fix])
def test_the_suggested_fix_makes_the_workload_healthy(labelled: Kubectl, name: str) -> None:
    eventually(lambda: (c := healthy_condition(labelled, name)) and c["status"] == "False", timeout=WAIT,
               what=f"the diagnosis of {name}")
    fix = LABELLED[name][3]
    assert fix is not None
    labelled(*fix)
    healed = eventually(lambda: (c := healthy_condition(labelled, name)) and c["status"] == "True" and c,
                        timeout=WAIT, what=f"{name} healthy after its fix")
    assert healed["reason"] == "NoFailingPods"
    labelled("rollout", "status", f"deployment/{name}", "--timeout=60s")


def test_no_control_is_flagged(labelled: Kubectl) -> None:
    controls = [n for n, (_, cause, *_) in LABELLED.items() if not cause]
    for name in controls:
        labelled("rollout", "status", f"deployment/{name}", "--timeout=90s")
    eventually(lambda: healthy_condition(labelled, "finishes"), timeout=WAIT, what="the diagnosis at work")
    assert {name: healthy_condition(labelled, name) for name in controls} == dict.fromkeys(controls)
    events = json.loads(labelled("get", "events", "--field-selector", "involvedObject.kind=Deployment", "-o",
                                 "json"))["items"]
    assert not [e for e in events if e["involvedObject"]["name"] in controls
                and e["source"].get("component") == "canopy-diagnosis"]


def test_an_eviction_for_node_memory_is_node_pressure(server: ApiServer, tmp_path: Path) -> None:
    # Last in the module: while the node is short of memory it takes no new pod, which would slow the others.
    fay = placed_tenant(server, tmp_path, "fay")
    fay("apply", "-f", "-", input=deployment("greedy", """\
        - name: app
          image: polinux/stress
          command: [stress]
          args: ["--vm", "1", "--vm-bytes", "4000M"]
        """))
    try:
        condition = eventually(lambda: (c := healthy_condition(fay, "greedy")) and c["status"] == "False"
                               and c["reason"] == "NodePressure" and c, timeout=WAIT,
                               what="the eviction diagnosed")
        assert "was evicted: its node on cluster edge-1 ran short of a resource" in condition["message"]
        report = kubectl_diagnose(fay, "deploy/greedy")
        assert "status: Failed, reason Evicted: The node was low on resource: memory." in report
    finally:
        fay("delete", "deployment", "greedy")
