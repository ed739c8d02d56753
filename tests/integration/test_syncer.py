"""The syncer end to end, every part a real process: etcd, the control plane, a simulated cluster, `canopy syncer`.

Tenants use kubectl in their workspaces only; what they see of their workloads comes from the cluster through
the syncer.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from syncer import translate as t
from tests.conftest import ApiServer, Kubectl
from tests.integration.simsupport import SimCluster, simulated_cluster
from tests.integration.support import canopy, eventually, mint, table_rows_by_name

WAIT = 60.0


@dataclass
class Linked:
    apiserver: ApiServer
    cluster: SimCluster
    admin: Kubectl
    syncer: subprocess.Popen[bytes]
    log: Path
    syncer_kubeconfig: Path


def start_syncer(kubeconfig: Path, cluster_kubeconfig: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "controlplane.cli", "syncer", "--cluster", "edge-1", "--kubeconfig",
             str(kubeconfig), "--cluster-kubeconfig", str(cluster_kubeconfig), "--heartbeat-seconds", "0.5"],
            stdout=out, stderr=subprocess.STDOUT,
        )


def audit(path: Path, since: str) -> list[dict[str, Any]]:
    return [e for e in map(json.loads, path.read_text().splitlines()) if e["time"] > since]


@pytest.fixture(scope="module")
def linked(apiserver: ApiServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Linked]:
    base = tmp_path_factory.mktemp("syncer")
    with simulated_cluster(base / "edge-1", name="edge-1", time_scale=0.01) as cluster:
        kubeconfig = base / "syncer.kubeconfig"
        canopy("cluster", "register", "edge-1", "--kubeconfig", str(apiserver.admin_kubeconfig),
               "--labels", "region=eu", "--allow-workspace", "root:*", "-o", str(kubeconfig))
        log = base / "syncer.log"
        process = start_syncer(kubeconfig, cluster.kubeconfig, log)
        admin = Kubectl(apiserver.admin_kubeconfig, "root")
        linked = Linked(apiserver, cluster, admin, process, log, kubeconfig)
        try:
            def ready() -> bool:
                cluster_obj = json.loads(admin("get", "cluster", "edge-1", "-o", "json"))
                conditions = (cluster_obj.get("status") or {}).get("conditions") or []
                return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)

            eventually(ready, timeout=WAIT, what="cluster edge-1 Ready")
            yield linked
        finally:
            linked.syncer.terminate()
            linked.syncer.wait(timeout=30)


def tenant(linked: Linked, tmp_path: Path, user: str) -> Kubectl:
    """A new workspace owned by `user`, with a Placement on every cluster it may use."""
    name = f"{user}-{secrets.token_hex(3)}"
    canopy("workspace", "create", name, "--owner", user, "--kubeconfig", str(linked.apiserver.admin_kubeconfig))
    kubectl = mint(linked.apiserver, f"root:{name}", user, tmp_path / f"{user}.kubeconfig")
    kubectl("apply", "-f", "-", input=textwrap.dedent("""\
        apiVersion: workload.canopy.dev/v1alpha1
        kind: Placement
        metadata: {name: everywhere}
        spec: {}
        """))
    eventually(lambda: "edge-1" in kubectl("get", "placements"), timeout=WAIT, what="the placement choosing edge-1")
    return kubectl


def deployment(name: str, replicas: int, container: str) -> str:
    return textwrap.dedent(f"""\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {{name: {name}}}
        spec:
          replicas: {replicas}
          selector: {{matchLabels: {{app: {name}}}}}
          template:
            metadata: {{labels: {{app: {name}}}}}
            spec:
              containers:
        """) + textwrap.indent(textwrap.dedent(container), "      ")


def pods(kubectl: Kubectl, selector: str) -> dict[str, dict[str, str]]:
    out = kubectl.run("get", "pods", "-l", selector, check=False).stdout
    return table_rows_by_name(out) if out.strip() else {}


def test_a_crash_in_the_cluster_is_seen_in_the_workspace_with_kubectl_alone(linked: Linked, tmp_path: Path) -> None:
    alice = tenant(linked, tmp_path, "alice")
    alice("apply", "-f", "-", input=deployment("api", 2, """\
        - name: api
          image: busybox:1.36
          command: ["sh", "-c", "echo 'fatal: DATABASE_URL is not set' >&2; exit 1"]
        """))

    def crash_looping() -> dict[str, dict[str, str]] | None:
        rows = pods(alice, "app=api")
        return rows if len(rows) == 2 and all(r["STATUS"] == "CrashLoopBackOff" for r in rows.values()) else None

    rows = eventually(crash_looping, timeout=WAIT, what="two mirrored pods in CrashLoopBackOff")
    assert all(name.endswith(".edge-1") for name in rows)
    name = next(iter(rows))
    described = alice("describe", "pod", name)
    assert "Last State:     Terminated" in described
    assert "Exit Code:    1" in described
    assert "Back-off restarting failed container api in pod" in described
    deploy = table_rows_by_name(alice("get", "deployment", "api"))["api"]
    assert deploy["READY"] == "0/2"
    pod: dict[str, Any] = json.loads(alice("get", "pod", name, "-o", "json"))
    assert pod["metadata"]["labels"]["workload.canopy.dev/cluster"] == "edge-1"
    times = [pod["status"]["startTime"], *(c["lastTransitionTime"] for c in pod["status"]["conditions"])]
    assert all(time.endswith("Z") for time in times), f"timestamps as the cluster wrote them (RFC 3339, UTC): {times}"


def test_logs_of_a_mirrored_pod_come_through_the_syncers_tunnel(linked: Linked, tmp_path: Path) -> None:
    bob = tenant(linked, tmp_path, "bob")
    bob("apply", "-f", "-", input=deployment("worker", 1, """\
        - name: worker
          image: busybox:1.36
          command: ["sh", "-c", "echo starting worker; echo 'error: queue unreachable' >&2; exit 1"]
        """))
    rows = eventually(lambda: (r := pods(bob, "app=worker")) and all(
        int(row["RESTARTS"].split()[0]) >= 1 for row in r.values()) and r, timeout=WAIT, what="a restarted worker")
    name = next(iter(rows))
    previous = bob("logs", name, "--previous")
    assert previous.splitlines() == ["starting worker", "error: queue unreachable"]
    assert bob("logs", name, "--previous", "--tail=1").splitlines() == ["error: queue unreachable"]
    followed = bob("logs", name, "--follow", timeout=WAIT)
    assert followed.splitlines() == ["starting worker", "error: queue unreachable"], "follow ends with the container"
    wrong = bob.run("logs", name, "-c", "nope", check=False)
    assert wrong.returncode == 1
    assert f"container nope is not valid for pod {name}" in wrong.stderr


@pytest.mark.parametrize("how", [["--wait=false"], ["--grace-period=0", "--force"]], ids=["graceful", "forced"])
def test_deleting_a_mirror_deletes_the_pod_on_the_cluster_and_its_replica_set_replaces_it(
        linked: Linked, tmp_path: Path, how: list[str]) -> None:
    carol = tenant(linked, tmp_path, "carol")
    carol("apply", "-f", "-", input=deployment("web", 1, """\
        - name: web
          image: nginx:1.27
        """))
    first = eventually(lambda: (r := pods(carol, "app=web")) and all(row["STATUS"] == "Running" for row in r.values())
                       and r, timeout=WAIT, what="web running")
    old = next(iter(first))
    wide = table_rows_by_name(carol("get", "pod", old, "-o", "wide"))[old]
    annotations = json.loads(carol("get", "pod", old, "-o", "json"))["metadata"]["annotations"]
    downstream = json.loads(linked.cluster.kubectl(
        "get", "pod", annotations["workload.canopy.dev/downstream-name"],
        "-n", annotations["workload.canopy.dev/downstream-namespace"], "-o", "json"))
    assert wide["NODE"] == downstream["spec"]["nodeName"], "the mirror is on its pod's node"
    carol("delete", "pod", old, *how)

    def replaced() -> dict[str, dict[str, str]] | None:
        rows = pods(carol, "app=web")
        return rows if old not in rows and len(rows) == 1 and next(iter(rows.values()))["STATUS"] == "Running" else None

    eventually(replaced, timeout=WAIT, what="a new web pod instead of the deleted one")


@pytest.mark.parametrize(("name", "container", "status", "last_reason", "exit_code"), [
    ("finishes", '- {name: main, image: "busybox:1.36", command: ["sh", "-c", "echo done"]}',
     "CrashLoopBackOff", "Completed", "0"),
    ("oom", '- {name: main, image: polinux/stress, command: [stress], args: ["--vm", "1", "--vm-bytes", "250M"], '
     'resources: {limits: {memory: 100Mi}}}', "CrashLoopBackOff", "OOMKilled", "137"),
    ("badtag", '- {name: main, image: "nginx:1.2x"}', "ImagePullBackOff", "", ""),
    ("noconfig", '- {name: main, image: "nginx:1.27", envFrom: [{configMapRef: {name: settings}}]}',
     "CreateContainerConfigError", "", ""),
])
def test_crash_classes_show_in_the_workspace_as_on_the_cluster(
        linked: Linked, tmp_path: Path, name: str, container: str, status: str, last_reason: str,
        exit_code: str) -> None:
    dave = tenant(linked, tmp_path, "dave")
    dave("apply", "-f", "-", input=deployment(name, 1, container + "\n"))
    eventually(lambda: (r := pods(dave, f"app={name}")) and next(iter(r.values()))["STATUS"] == status,
               timeout=WAIT, what=f"{name} {status} in the workspace")
    mirror = next(iter(pods(dave, f"app={name}")))
    described = dave("describe", "pod", mirror)
    if last_reason:
        assert f"Reason:       {last_reason}" in described.split("Last State:")[1]
        assert f"Exit Code:    {exit_code}" in described.split("Last State:")[1]
    if status == "ImagePullBackOff":
        assert 'Back-off pulling image "nginx:1.2x"' in described
    if status == "CreateContainerConfigError":
        assert 'Error: configmap "settings" not found' in described
        dave("create", "configmap", "settings", "--from-literal=mode=fast")
        eventually(lambda: next(iter(pods(dave, f"app={name}").values()))["STATUS"] == "Running", timeout=WAIT,
                   what="the pod running once its ConfigMap exists upstream")


def test_two_tenants_with_the_same_names_run_side_by_side_and_never_meet(linked: Linked, tmp_path: Path) -> None:
    erin, frank = tenant(linked, tmp_path, "erin"), tenant(linked, tmp_path, "frank")
    for kubectl, text in ((erin, "erin's page"), (frank, "frank's page")):
        kubectl("create", "configmap", "content", f"--from-literal=index.html={text}")
        kubectl("apply", "-f", "-", input=deployment("nginx", 1, """\
            - name: nginx
              image: nginx:1.27
              envFrom: [{configMapRef: {name: content}}]
            """))
    for kubectl in (erin, frank):
        eventually(lambda k=kubectl: (r := pods(k, "app=nginx")) and next(iter(r.values()))["STATUS"] == "Running",
                   timeout=WAIT, what="nginx running")
    namespaces = {json.loads(k("get", "pod", next(iter(pods(k, "app=nginx"))), "-o", "json"))["metadata"]
                  ["annotations"]["workload.canopy.dev/downstream-namespace"] for k in (erin, frank)}
    assert len(namespaces) == 2, "each tenant's default namespace has its own namespace on the cluster"
    on_cluster = {ns: json.loads(linked.cluster.kubectl("get", "configmap", "content", "-n", ns, "-o", "json"))
                  ["data"]["index.html"] for ns in namespaces}
    assert sorted(on_cluster.values()) == ["erin's page", "frank's page"]
    assert len(pods(erin, "app=nginx")) == 1 and len(pods(frank, "app=nginx")) == 1
    theirs = next(iter(pods(frank, "app=nginx")))
    refused = erin.run("get", "pod", theirs, check=False)
    assert refused.returncode == 1 and "NotFound" in refused.stderr


def test_a_restarted_syncer_converges_without_writing_anything_that_did_not_change(
        linked: Linked, tmp_path: Path) -> None:
    gina = tenant(linked, tmp_path, "gina")
    gina("create", "configmap", "content", "--from-literal=index.html=hello")
    gina("apply", "-f", "-", input=deployment("web", 2, """\
        - name: web
          image: nginx:1.27
          envFrom: [{configMapRef: {name: content}}]
        """))
    gina("rollout", "status", "deployment/web", "--timeout=60s")
    eventually(lambda: (r := pods(gina, "app=web")) and len(r) == 2 and all(
        row["STATUS"] == "Running" for row in r.values()), timeout=WAIT, what="two web pods mirrored Running")
    workspace = gina.workspace
    mirror = next(iter(pods(gina, "app=web")))
    downstream = json.loads(gina("get", "pod", mirror, "-o", "json"))["metadata"]["annotations"][
        "workload.canopy.dev/downstream-namespace"]

    linked.syncer.terminate()
    linked.syncer.wait(timeout=30)
    restarted = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    linked.syncer = start_syncer(linked.syncer_kubeconfig, linked.cluster.kubeconfig, linked.log)
    upstream_audit = linked.apiserver.data_dir / "audit.log"

    def resynced() -> bool:
        """The new syncer has read the Deployment's ConfigMap (so it synced the Deployment) and its heartbeat
        has gone out twice since, so whatever that sync wrote is in the audit log by now."""
        entries = audit(upstream_audit, restarted)
        read = next((i for i, e in enumerate(entries) if e.get("workspace") == workspace
                     and e.get("resource") == "configmaps" and e.get("verb") == "get"), None)
        heartbeats = sum(1 for e in entries[read or 0:] if str(e.get("resource")).startswith("clusters"))
        return read is not None and heartbeats >= 2

    try:
        eventually(resynced, timeout=WAIT, what="the restarted syncer having synced the workspace")
    except AssertionError:
        raise AssertionError(f"{linked.log.read_text()}\nrestarted at {restarted}") from None
    tunnels = [e for e in audit(upstream_audit, "") if e["path"] == "/services/syncer-tunnel/edge-1"]
    assert tunnels and {(e["user"], e["code"]) for e in tunnels} == {("system:syncer:edge-1", 101)}, \
        "the stopped syncer's tunnel is in the audit log under its name"
    writes = [e for e in audit(upstream_audit, restarted) if e.get("workspace") == workspace
              and e.get("user") == "system:syncer:edge-1" and e.get("verb") not in ("get", "list", "watch")]
    made = [(e.get("verb"), e.get("resource"), e.get("name"), e.get("code")) for e in writes]
    assert made == [], f"nothing changed, so the restarted syncer writes nothing upstream: {made}"
    downstream_writes = [e for e in audit(linked.cluster.data_dir / "audit.log", restarted)
                         if e.get("namespace") == downstream and e.get("verb") not in ("get", "list", "watch")]
    assert downstream_writes == [], "nor downstream"
    assert len(pods(gina, "app=web")) == 2
    deployments = json.loads(linked.cluster.kubectl("get", "deployments", "-n", downstream, "-o", "json"))["items"]
    assert [d["metadata"]["name"] for d in deployments] == ["web"]


def test_drift_on_the_cluster_is_reverted(linked: Linked, tmp_path: Path) -> None:
    hank = tenant(linked, tmp_path, "hank")
    hank("apply", "-f", "-", input=deployment("web", 2, """\
        - name: web
          image: nginx:1.27
        """))
    hank("rollout", "status", "deployment/web", "--timeout=60s")
    downstream = t.downstream_namespace(hank.workspace, "default")
    cluster = linked.cluster.kubectl
    cluster("scale", "deployment/web", "-n", downstream, "--replicas=5")
    eventually(lambda: json.loads(cluster("get", "deployment", "web", "-n", downstream, "-o", "json"))["spec"]
               ["replicas"] == 2, timeout=WAIT, what="the edit on the cluster reverted")
    uid = json.loads(cluster("get", "deployment", "web", "-n", downstream, "-o", "json"))["metadata"]["uid"]
    cluster("delete", "deployment", "web", "-n", downstream, "--wait=false")
    eventually(lambda: (r := cluster.run("get", "deployment", "web", "-n", downstream, "-o", "json", check=False))
               .returncode == 0 and json.loads(r.stdout)["metadata"]["uid"] != uid, timeout=WAIT,
               what="the deleted Deployment made again")
    hank("rollout", "status", "deployment/web", "--timeout=60s")


def test_services_go_down_with_their_namespace_which_goes_once_nothing_is_left_in_it(
        linked: Linked, tmp_path: Path) -> None:
    ivy = tenant(linked, tmp_path, "ivy")
    ivy("create", "configmap", "settings", "--from-literal=mode=fast")
    ivy("apply", "-f", "-", input=deployment("web", 1, """\
        - name: web
          image: nginx:1.27
          envFrom: [{configMapRef: {name: settings}}]
        """))
    ivy("expose", "deployment", "web", "--port=80")
    downstream = t.downstream_namespace(ivy.workspace, "default")
    cluster = linked.cluster.kubectl

    def service_down() -> dict[str, Any] | None:
        found = cluster.run("get", "service", "web", "-n", downstream, "-o", "json", check=False)
        return json.loads(found.stdout) if found.returncode == 0 else None

    copy = eventually(service_down, timeout=WAIT, what="the Service on the cluster")
    upstream = json.loads(ivy("get", "service", "web", "-o", "json"))
    assert copy["spec"]["selector"] == {"app": "web"}
    assert copy["spec"]["ports"][0]["port"] == 80
    assert copy["spec"]["clusterIP"], "the cluster allocated its own address"
    assert copy["metadata"]["labels"][t.MANAGED_BY_LABEL] == t.MANAGED_BY
    assert copy["metadata"]["uid"] != upstream["metadata"]["uid"]

    cluster("patch", "service", "web", "-n", downstream, "--type=merge", "-p", '{"spec":{"selector":{"app":"x"}}}')
    eventually(lambda: (s := service_down()) and s["spec"]["selector"] == {"app": "web"}, timeout=WAIT,
               what="the edit of the Service on the cluster reverted")

    ivy("delete", "service", "web")
    eventually(lambda: service_down() is None, timeout=WAIT, what="the Service gone from the cluster")
    assert cluster.run("get", "namespace", downstream, check=False).returncode == 0, "the Deployment is still there"
    ivy("delete", "deployment", "web")

    def namespace_gone() -> bool:
        found = cluster.run("get", "namespace", downstream, check=False)
        return found.returncode != 0 and "NotFound" in found.stderr

    eventually(namespace_gone, timeout=WAIT, what="the emptied namespace (and the ConfigMap's copy) gone")


def test_a_syncer_killed_mid_rollout_converges_with_nothing_duplicated_or_lost(linked: Linked, tmp_path: Path) -> None:
    lee = tenant(linked, tmp_path, "lee")
    # Each new pod takes a couple of seconds to turn ready (200 s scaled by 0.01), one at a time: a slow rollout.
    lee("apply", "-f", "-", input=deployment("web", 4, """\
        - name: web
          image: nginx:1.26
          readinessProbe: {httpGet: {path: /, port: 80}, initialDelaySeconds: 200, periodSeconds: 10}
        """).replace("  template:", "  strategy: {rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}\n  template:"))
    lee("rollout", "status", "deployment/web", "--timeout=90s")
    downstream = t.downstream_namespace(lee.workspace, "default")
    cluster = linked.cluster.kubectl
    uid = json.loads(cluster("get", "deployment", "web", "-n", downstream, "-o", "json"))["metadata"]["uid"]

    lee("set", "image", "deployment/web", "web=nginx:1.27")

    def rolling() -> bool:
        status = json.loads(cluster("get", "deployment", "web", "-n", downstream, "-o", "json"))
        image = status["spec"]["template"]["spec"]["containers"][0]["image"]
        return image == "nginx:1.27" and 0 < (status["status"].get("updatedReplicas") or 0) < 4

    eventually(rolling, timeout=WAIT, what="the rollout under way on the cluster")
    linked.syncer.kill()
    linked.syncer.wait(timeout=30)
    eventually(lambda: "successfully rolled out" in cluster.run(
        "rollout", "status", "deployment/web", "-n", downstream, "--timeout=1s", check=False).stdout,
        timeout=WAIT, what="the rollout finished on the cluster while the syncer was away")
    linked.syncer = start_syncer(linked.syncer_kubeconfig, linked.cluster.kubeconfig, linked.log)

    assert "successfully rolled out" in lee("rollout", "status", "deployment/web", "--timeout=90s")
    on_cluster = json.loads(cluster("get", "pods", "-n", downstream, "-o", "json"))["items"]
    assert len(on_cluster) == 4
    expected = {f"{p['metadata']['name']}.edge-1" for p in on_cluster}

    def mirrored() -> dict[str, dict[str, str]] | None:
        rows = pods(lee, "app=web")
        return rows if set(rows) == expected and all(r["STATUS"] == "Running" for r in rows.values()) else None

    eventually(mirrored, timeout=WAIT, what="exactly the cluster's four new pods mirrored, the old ones gone")
    mirrors = json.loads(lee("get", "pods", "-l", "app=web", "-o", "json"))["items"]
    assert {m["spec"]["containers"][0]["image"] for m in mirrors} == {"nginx:1.27"}
    deployments = json.loads(cluster("get", "deployments", "-n", downstream, "-o", "json"))["items"]
    assert [(d["metadata"]["name"], d["metadata"]["uid"]) for d in deployments] == [("web", uid)], \
        "the same Deployment, never made twice"
    up = table_rows_by_name(lee("get", "deployment", "web"))["web"]
    assert (up["READY"], up["UP-TO-DATE"], up["AVAILABLE"]) == ("4/4", "4", "4")

    def started_events() -> set[str]:
        events = json.loads(lee("get", "events", "--field-selector", "reason=Started", "-o", "json"))["items"]
        return {e["involvedObject"]["name"] for e in events} & expected

    eventually(lambda: started_events() == expected, timeout=WAIT,
               what="the Started events of the pods made while the syncer was away, about their mirrors")
