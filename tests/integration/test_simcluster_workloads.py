"""Deployments and ReplicaSets in the simulated cluster, as kubectl shows them in a K3s (Kubernetes 1.32) cluster.

Pods here never become ready: their images are not in any registry the simulated nodes can pull from (and without
a kubelet nothing would make them ready either). So these tests pin what does not need ready pods: names, labels,
owners, annotations, sizes, revisions, events, and the progress deadline. Availability-driven progress is pinned by
tests/unit/test_simcluster_rollout.py. Pods being deleted may stay Terminating for a while (a kubelet stops them):
counts below are of active pods, as a ReplicaSet counts them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import Kubectl
from tests.integration.simsupport import SimCluster, simulated_cluster
from tests.integration.support import (
    create_namespace,
    deployment,
    eventually,
    kubectl_stream,
    table,
    table_rows_by_name,
    to_yaml,
)

IMAGE = "registry.example.com/shop/web"  # nowhere to pull it from: its pods stay unready
HASH = "[bcdfghjklmnpqrstvwxz2456789]{1,10}"


@pytest.fixture(scope="module")
def simcluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimCluster]:
    with simulated_cluster(tmp_path_factory.mktemp("simcluster-workloads"), time_scale=0.01) as cluster:
        yield cluster


@pytest.fixture
def namespace(simcluster: SimCluster, request: pytest.FixtureRequest) -> str:
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.removeprefix("test_").lower())[:50].strip("-")
    create_namespace(simcluster.kubectl, name)
    return name


def get(kubectl: Kubectl, namespace: str, *what: str) -> Any:
    return json.loads(kubectl("get", "-n", namespace, *what, "-o", "json"))


def create(kubectl: Kubectl, namespace: str, name: str, *, replicas: int, version: str = "1.0",
           annotations: dict[str, str] | None = None, **spec: Any) -> None:
    body = deployment(name, replicas=replicas, image=f"{IMAGE}:{version}", container="web", **spec)
    if annotations:
        body["metadata"]["annotations"] = annotations
    kubectl("create", "-n", namespace, "-f", "-", input=to_yaml(body))


def replica_sets(kubectl: Kubectl, namespace: str) -> dict[str, dict[str, Any]]:
    return {rs["metadata"]["name"]: rs for rs in get(kubectl, namespace, "replicasets")["items"]}


def active_pods(kubectl: Kubectl, namespace: str, owner: str = "") -> list[dict[str, Any]]:
    """Pods not being deleted (of the ReplicaSet `owner`, if given)."""
    pods = [p for p in get(kubectl, namespace, "pods")["items"] if not p["metadata"].get("deletionTimestamp")]
    if owner:
        pods = [p for p in pods if any(r["name"] == owner for r in p["metadata"].get("ownerReferences", []))]
    return pods


def events(kubectl: Kubectl, namespace: str, reason: str) -> list[str]:
    """Messages of the events with this reason, oldest first."""
    items = sorted(get(kubectl, namespace, "events")["items"],
                   key=lambda e: (e.get("firstTimestamp") or "", e["metadata"]["name"]))
    return [e["message"] for e in items if e["reason"] == reason]


def wait_for_events(kubectl: Kubectl, namespace: str, reason: str, expected: list[str]) -> None:
    """An event is written just after what it reports: wait for it too."""
    eventually(lambda: events(kubectl, namespace, reason) == expected, what=f"{reason} events {expected}")


def settled(kubectl: Kubectl, namespace: str) -> dict[str, int] | None:
    """{ReplicaSet: replicas} once each ReplicaSet has observed its spec and has as many active pods as it wants."""
    sizes = {}
    for name, rs in replica_sets(kubectl, namespace).items():
        if rs["status"].get("observedGeneration") != rs["metadata"]["generation"]:
            return None
        if len(active_pods(kubectl, namespace, name)) != rs["spec"]["replicas"]:
            return None
        sizes[name] = rs["spec"]["replicas"]
    return sizes


def wait_for_sizes(kubectl: Kubectl, namespace: str, *sizes: int) -> list[str]:
    """The names of the ReplicaSets once they have settled at these sizes (in some order)."""
    def probe() -> list[str] | None:
        found = settled(kubectl, namespace)
        return list(found) if found is not None and sorted(found.values()) == sorted(sizes) else None

    return eventually(probe, what=f"ReplicaSets of {sizes} pods")


def the_replica_set_with_revision(kubectl: Kubectl, namespace: str, revision: str) -> dict[str, Any]:
    def find() -> dict[str, Any] | None:
        return next((rs for rs in replica_sets(kubectl, namespace).values()
                     if rs["metadata"].get("annotations", {}).get("deployment.kubernetes.io/revision") == revision),
                    None)

    return eventually(find, what=f"a ReplicaSet with revision {revision}")


def test_a_deployment_makes_a_replica_set_named_by_its_template_hash_and_owning_its_pods(
    simcluster: SimCluster, namespace: str
) -> None:
    kubectl = simcluster.kubectl
    create(kubectl, namespace, "web", replicas=3)
    (rs_name,) = wait_for_sizes(kubectl, namespace, 3)
    rs = replica_sets(kubectl, namespace)[rs_name]
    d = get(kubectl, namespace, "deployment", "web")
    assert re.fullmatch(f"web-{HASH}", rs_name)
    pod_hash = rs_name.removeprefix("web-")
    assert rs["metadata"]["labels"] == {"app": "web", "pod-template-hash": pod_hash}
    assert rs["spec"]["selector"] == {"matchLabels": {"app": "web", "pod-template-hash": pod_hash}}
    assert rs["metadata"]["ownerReferences"] == [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
                                                  "uid": d["metadata"]["uid"], "controller": True,
                                                  "blockOwnerDeletion": True}]
    annotations = rs["metadata"]["annotations"]
    assert {k: annotations[k] for k in annotations if k.startswith("deployment.kubernetes.io/")} == {
        "deployment.kubernetes.io/revision": "1", "deployment.kubernetes.io/desired-replicas": "3",
        "deployment.kubernetes.io/max-replicas": "4"}
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
    pods = active_pods(kubectl, namespace)
    for pod in pods:
        assert re.fullmatch(f"{rs_name}-[bcdfghjklmnpqrstvwxz2456789]{{5}}", pod["metadata"]["name"])
        assert pod["metadata"]["labels"] == {"app": "web", "pod-template-hash": pod_hash}
        assert pod["metadata"]["ownerReferences"] == [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                                       "name": rs_name, "uid": rs["metadata"]["uid"],
                                                       "controller": True, "blockOwnerDeletion": True}]
    row = table_rows_by_name(kubectl("get", "rs", "-n", namespace))[rs_name]
    assert (row["DESIRED"], row["CURRENT"], row["READY"]) == ("3", "3", "0")
    wait_for_events(kubectl, namespace, "ScalingReplicaSet", [f"Scaled up replica set {rs_name} from 0 to 3"])
    eventually(lambda: sorted(events(kubectl, namespace, "SuccessfulCreate")) == sorted(
        f"Created pod: {p['metadata']['name']}" for p in pods), what="a SuccessfulCreate event for each pod")
    sources = {e["reason"]: e["source"]["component"] for e in get(kubectl, namespace, "events")["items"]}
    assert sources["ScalingReplicaSet"] == "deployment-controller"
    assert sources["SuccessfulCreate"] == "replicaset-controller"


def test_kubectl_scale_resizes_the_replica_set(simcluster: SimCluster, namespace: str) -> None:
    kubectl = simcluster.kubectl
    create(kubectl, namespace, "web", replicas=2)
    (rs_name,) = wait_for_sizes(kubectl, namespace, 2)
    assert kubectl("scale", "-n", namespace, "deployment/web", "--replicas=5") == "deployment.apps/web scaled\n"
    wait_for_sizes(kubectl, namespace, 5)
    kubectl("scale", "-n", namespace, "deployment/web", "--replicas=1")
    wait_for_sizes(kubectl, namespace, 1)
    wait_for_events(kubectl, namespace, "ScalingReplicaSet", [
        f"Scaled up replica set {rs_name} from 0 to 2", f"Scaled up replica set {rs_name} from 2 to 5",
        f"Scaled down replica set {rs_name} from 5 to 1"])
    eventually(lambda: len(events(kubectl, namespace, "SuccessfulDelete")) == 4, what="4 SuccessfulDelete events")
    annotations = replica_sets(kubectl, namespace)[rs_name]["metadata"]["annotations"]
    assert annotations["deployment.kubernetes.io/desired-replicas"] == "1"


def test_a_deleted_pod_is_replaced(simcluster: SimCluster, namespace: str) -> None:
    kubectl = simcluster.kubectl
    create(kubectl, namespace, "web", replicas=2)
    wait_for_sizes(kubectl, namespace, 2)
    before = {p["metadata"]["name"] for p in active_pods(kubectl, namespace)}
    victim = sorted(before)[0]
    kubectl("delete", "pod", "-n", namespace, victim, "--wait=false")

    def replaced() -> set[str] | None:
        now = {p["metadata"]["name"] for p in active_pods(kubectl, namespace)}
        return now if len(now) == 2 and victim not in now else None

    after = eventually(replaced, what="a replacement pod")
    assert len(after - before) == 1


def test_new_templates_make_new_revisions_that_history_lists_and_undo_restores(
    simcluster: SimCluster, namespace: str
) -> None:
    kubectl = simcluster.kubectl
    cause = "kubernetes.io/change-cause"
    create(kubectl, namespace, "web", replicas=2, annotations={cause: "first release"})
    first = the_replica_set_with_revision(kubectl, namespace, "1")
    kubectl("set", "image", "-n", namespace, "deployment/web", f"web={IMAGE}:2.0")
    kubectl("annotate", "-n", namespace, "deployment/web", "--overwrite", f"{cause}=new image")
    second = the_replica_set_with_revision(kubectl, namespace, "2")
    assert second["spec"]["template"]["spec"]["containers"][0]["image"] == f"{IMAGE}:2.0"
    assert kubectl("rollout", "restart", "-n", namespace, "deployment/web") == "deployment.apps/web restarted\n"
    kubectl("annotate", "-n", namespace, "deployment/web", "--overwrite", f"{cause}=restarted")
    third = the_replica_set_with_revision(kubectl, namespace, "3")
    assert "kubectl.kubernetes.io/restartedAt" in third["spec"]["template"]["metadata"]["annotations"]
    assert len({first["metadata"]["name"], second["metadata"]["name"], third["metadata"]["name"]}) == 3

    def history() -> list[list[str]]:
        lines = kubectl("rollout", "history", "-n", namespace, "deployment/web").splitlines()
        assert lines[0].strip() == "deployment.apps/web"
        header, rows = table("\n".join(lines[1:]))
        assert header == ["REVISION", "CHANGE-CAUSE"]
        return rows

    expected = [["1", "first release"], ["2", "new image"], ["3", "restarted"]]
    eventually(lambda: history() == expected, what=f"history {expected}")
    shown = kubectl("rollout", "history", "-n", namespace, "deployment/web", "--revision=2")
    assert shown.startswith("deployment.apps/web with revision #2\n")
    assert f"Image:\t{IMAGE}:2.0" in shown

    undone = kubectl("rollout", "undo", "-n", namespace, "deployment/web", "--to-revision=1")
    assert undone == "deployment.apps/web rolled back\n"
    restored = the_replica_set_with_revision(kubectl, namespace, "4")
    assert restored["metadata"]["name"] == first["metadata"]["name"]
    assert restored["metadata"]["annotations"]["deployment.kubernetes.io/revision-history"] == "1"
    d = get(kubectl, namespace, "deployment", "web")
    assert d["spec"]["template"]["spec"]["containers"][0]["image"] == f"{IMAGE}:1.0"
    eventually(lambda: history() == [["2", "new image"], ["3", "restarted"], ["4", "first release"]],
               what="history after undo")
    eventually(lambda: get(kubectl, namespace, "deployment", "web")["metadata"]["annotations"].get(
        "deployment.kubernetes.io/revision") == "4", what="the deployment at revision 4")


def test_a_stuck_rollout_exceeds_its_progress_deadline_and_rollout_status_says_so(
    simcluster: SimCluster, namespace: str
) -> None:
    kubectl = simcluster.kubectl
    reasons = '{.status.conditions[?(@.type=="Progressing")].reason}{"\\n"}'
    with kubectl_stream(kubectl, "get", "deployments", "-n", namespace, "-w", "-o", f"jsonpath={reasons}") as watch:
        create(kubectl, namespace, "stuck", replicas=3, progressDeadlineSeconds=60)  # simulated seconds
        watch.expect(lambda line: line == "ReplicaSetUpdated")
        watch.expect(lambda line: line == "ProgressDeadlineExceeded")
    (rs_name,) = replica_sets(kubectl, namespace)
    status = get(kubectl, namespace, "deployment", "stuck")["status"]
    conditions = {c["type"]: (c["status"], c["reason"], c["message"]) for c in status.pop("conditions")}
    assert conditions == {
        "Available": ("False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability."),
        "Progressing": ("False", "ProgressDeadlineExceeded", f'ReplicaSet "{rs_name}" has timed out progressing.'),
    }
    assert status == {"observedGeneration": 1, "replicas": 3, "updatedReplicas": 3, "unavailableReplicas": 3}
    result = kubectl.run("rollout", "status", "-n", namespace, "deployment/stuck", check=False)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == 'error: deployment "stuck" exceeded its progress deadline'
    row = table_rows_by_name(kubectl("get", "deployment", "-n", namespace))["stuck"]
    assert (row["READY"], row["UP-TO-DATE"], row["AVAILABLE"]) == ("0/3", "3", "0")


def test_rollout_status_reports_a_finished_rollout(simcluster: SimCluster, namespace: str) -> None:
    kubectl = simcluster.kubectl
    create(kubectl, namespace, "idle", replicas=0)
    out = kubectl("rollout", "status", "-n", namespace, "deployment/idle", "--timeout=20s")
    assert out.splitlines()[-1] == 'deployment "idle" successfully rolled out'
    (rs_name,) = replica_sets(kubectl, namespace)
    conditions = {c["type"]: (c["status"], c["reason"], c["message"])
                  for c in get(kubectl, namespace, "deployment", "idle")["status"]["conditions"]}
    assert conditions == {
        "Available": ("True", "MinimumReplicasAvailable", "Deployment has minimum availability."),
        "Progressing": ("True", "NewReplicaSetAvailable", f'ReplicaSet "{rs_name}" has successfully progressed.'),
    }


def test_a_paused_deployment_waits_for_resume_to_roll_out(simcluster: SimCluster, namespace: str) -> None:
    kubectl = simcluster.kubectl
    create(kubectl, namespace, "web", replicas=1)
    wait_for_sizes(kubectl, namespace, 1)
    kubectl("rollout", "pause", "-n", namespace, "deployment/web")

    def progressing() -> tuple[str, str, str]:
        conditions = get(kubectl, namespace, "deployment", "web")["status"]["conditions"]
        return next((c["status"], c["reason"], c["message"]) for c in conditions if c["type"] == "Progressing")

    eventually(lambda: progressing() == ("Unknown", "DeploymentPaused", "Deployment is paused"), what="paused")
    kubectl("set", "image", "-n", namespace, "deployment/web", f"web={IMAGE}:2.0")
    eventually(lambda: get(kubectl, namespace, "deployment", "web")["status"].get("observedGeneration") == 3,
               what="the new template observed")
    assert len(replica_sets(kubectl, namespace)) == 1
    kubectl("rollout", "resume", "-n", namespace, "deployment/web")
    the_replica_set_with_revision(kubectl, namespace, "2")


def test_recreate_removes_the_old_pods_before_making_new_ones(simcluster: SimCluster, namespace: str) -> None:
    kubectl = simcluster.kubectl
    create(kubectl, namespace, "db", replicas=2, strategy={"type": "Recreate"})
    (old,) = wait_for_sizes(kubectl, namespace, 2)
    kubectl("set", "image", "-n", namespace, "deployment/db", f"web={IMAGE}:2.0")
    eventually(lambda: replica_sets(kubectl, namespace)[old]["spec"]["replicas"] == 0, what="old scaled to 0")
    # A Recreate rollout waits until no old pod is left at all, Terminating ones included: no kubelet need stop them.
    old_hash = old.removeprefix("db-")
    kubectl("delete", "pods", "-n", namespace, "-l", f"pod-template-hash={old_hash}", "--force", "--grace-period=0")
    new = the_replica_set_with_revision(kubectl, namespace, "2")
    assert new["spec"]["replicas"] == 2
    assert new["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"] == "2"
    wait_for_events(kubectl, namespace, "ScalingReplicaSet", [
        f"Scaled up replica set {old} from 0 to 2", f"Scaled down replica set {old} from 2 to 0",
        f"Scaled up replica set {new['metadata']['name']} from 0 to 2"])


def test_a_replica_set_adopts_matching_orphans_and_releases_relabelled_pods(
    simcluster: SimCluster, namespace: str
) -> None:
    kubectl = simcluster.kubectl
    orphan = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "orphan", "labels": {"app": "solo"}},
              "spec": {"containers": [{"name": "web", "image": f"{IMAGE}:1.0"}]}}
    kubectl("create", "-n", namespace, "-f", "-", input=to_yaml(orphan))
    rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "solo"},
          "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "solo"}},
                   "template": {"metadata": {"labels": {"app": "solo"}}, "spec": orphan["spec"]}}}
    kubectl("create", "-n", namespace, "-f", "-", input=to_yaml(rs))

    def owners_of_orphan() -> list[str]:
        pod = get(kubectl, namespace, "pod", "orphan")
        return [r["name"] for r in pod["metadata"].get("ownerReferences", []) if r.get("controller")]

    eventually(lambda: owners_of_orphan() == ["solo"], what="the orphan adopted")
    eventually(lambda: get(kubectl, namespace, "rs", "solo")["status"].get("observedGeneration") == 1,
               what="the ReplicaSet synced")
    assert [p["metadata"]["name"] for p in active_pods(kubectl, namespace)] == ["orphan"]
    kubectl("label", "-n", namespace, "pod", "orphan", "app=debug", "--overwrite")
    eventually(lambda: owners_of_orphan() == [], what="the relabelled pod released")
    eventually(lambda: len(active_pods(kubectl, namespace, "solo")) == 1, what="a pod made to replace it")


def test_deleting_a_deployment_deletes_its_replica_sets_and_pods(simcluster: SimCluster, namespace: str) -> None:
    kubectl = simcluster.kubectl
    create(kubectl, namespace, "web", replicas=2)
    wait_for_sizes(kubectl, namespace, 2)
    kubectl("delete", "deployment", "-n", namespace, "web")
    eventually(lambda: not replica_sets(kubectl, namespace), what="the ReplicaSet gone")
    eventually(lambda: not active_pods(kubectl, namespace), what="the pods gone or terminating")
