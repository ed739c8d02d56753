"""`kubectl get pods` STATUS and RESTARTS for the states users debug, with statuses set through /status."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from tests.conftest import Kubectl
from tests.integration.support import deployment, table_rows_by_name, to_yaml


def ts(seconds_ago: int) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def pod(name: str, restart_policy: str = "Always") -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"restartPolicy": restart_policy, "containers": [{"name": "app", "image": "busybox"}]},
    }


def container_status(*, state: dict, restart_count: int = 0, last_state: dict | None = None,
                     ready: bool = False) -> dict:
    return {
        "name": "app",
        "image": "busybox",
        "imageID": "",
        "ready": ready,
        "started": ready,
        "restartCount": restart_count,
        "state": state,
        "lastState": last_state or {},
    }


STATUSES = {
    "crash": {
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "False", "reason": "ContainersNotReady"}],
        "containerStatuses": [container_status(
            state={"waiting": {"reason": "CrashLoopBackOff",
                               "message": "back-off 1m20s restarting failed container=app pod=crash"}},
            restart_count=4,
            last_state={"terminated": {"exitCode": 1, "reason": "Error", "startedAt": ts(70),
                                       "finishedAt": ts(60)}},
        )],
    },
    "oom": {
        "phase": "Failed",
        "containerStatuses": [container_status(
            state={"terminated": {"exitCode": 137, "reason": "OOMKilled", "startedAt": ts(30),
                                  "finishedAt": ts(20)}},
        )],
    },
    "pull": {
        "phase": "Pending",
        "containerStatuses": [container_status(
            state={"waiting": {"reason": "ImagePullBackOff", "message": 'Back-off pulling image "busybox:nope"'}},
        )],
    },
    "done": {
        "phase": "Succeeded",
        "containerStatuses": [container_status(
            state={"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": ts(50), "finishedAt": ts(40)}},
        )],
    },
    "running": {
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "True"}],
        "containerStatuses": [container_status(state={"running": {"startedAt": ts(100)}}, ready=True,
                                               restart_count=1,
                                               last_state={"terminated": {"exitCode": 1, "reason": "Error",
                                                                          "startedAt": ts(200),
                                                                          "finishedAt": ts(150)}})],
    },
}


def test_get_pods_shows_crash_states_in_status_and_restarts(kubectl: Kubectl) -> None:
    pods = [pod("crash"), pod("oom", "Never"), pod("pull"), pod("done", "Never"), pod("running")]
    assert kubectl("create", "-f", "-", input=to_yaml(*pods)).splitlines() == [
        "pod/crash created", "pod/oom created", "pod/pull created", "pod/done created", "pod/running created",
    ]
    for name, status in STATUSES.items():
        out = kubectl("patch", "pod", name, "--subresource=status", "--type=merge", "-p",
                      json.dumps({"status": status}))
        assert out == f"pod/{name} patched\n"

    output = kubectl("get", "pods")
    assert output.splitlines()[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    rows = table_rows_by_name(output)
    assert (rows["crash"]["READY"], rows["crash"]["STATUS"]) == ("0/1", "CrashLoopBackOff")
    assert re.fullmatch(r"4 \((\d+s|\d+m\d*s?) ago\)", rows["crash"]["RESTARTS"]), rows["crash"]
    assert (rows["oom"]["READY"], rows["oom"]["STATUS"], rows["oom"]["RESTARTS"]) == ("0/1", "OOMKilled", "0")
    assert (rows["pull"]["READY"], rows["pull"]["STATUS"], rows["pull"]["RESTARTS"]) == (
        "0/1", "ImagePullBackOff", "0"
    )
    assert (rows["done"]["READY"], rows["done"]["STATUS"], rows["done"]["RESTARTS"]) == ("0/1", "Completed", "0")
    assert (rows["running"]["READY"], rows["running"]["STATUS"]) == ("1/1", "Running")
    assert re.fullmatch(r"1 \((\d+s|\d+m\d*s?) ago\)", rows["running"]["RESTARTS"]), rows["running"]


def test_pod_status_patch_cannot_change_spec(kubectl: Kubectl) -> None:
    kubectl("create", "-f", "-", input=to_yaml(pod("web")))
    patch = {"spec": {"containers": [{"name": "app", "image": "evil"}]}, "status": {"phase": "Running"}}
    kubectl("patch", "pod", "web", "--subresource=status", "--type=merge", "-p", json.dumps(patch))
    got = json.loads(kubectl("get", "pod", "web", "-o", "json"))
    assert got["status"]["phase"] == "Running"
    assert got["spec"]["containers"][0]["image"] == "busybox"


def test_deployment_status_patch_changes_neither_spec_nor_labels(kubectl: Kubectl) -> None:
    kubectl("create", "-f", "-", input=to_yaml(deployment("web")))
    patch = {"metadata": {"labels": {"sneaky": "yes"}}, "spec": {"replicas": 9}, "status": {"replicas": 1}}
    assert kubectl("patch", "deploy", "web", "--subresource=status", "--type=merge", "-p", json.dumps(patch)) == (
        "deployment.apps/web patched\n"
    )
    got = json.loads(kubectl("get", "deploy", "web", "-o", "json"))
    assert got["status"]["replicas"] == 1
    assert got["spec"]["replicas"] == 1
    assert "sneaky" not in (got["metadata"].get("labels") or {})
    assert got["metadata"]["generation"] == 1


def test_spec_update_ignores_status(kubectl: Kubectl) -> None:
    kubectl("create", "-f", "-", input=to_yaml(pod("web")))
    kubectl("patch", "pod", "web", "--type=merge", "-p",
            '{"metadata":{"labels":{"tier":"web"}},"status":{"phase":"Succeeded"}}')
    got = json.loads(kubectl("get", "pod", "web", "-o", "json"))
    assert got["metadata"]["labels"] == {"tier": "web"}
    assert got["status"]["phase"] == "Pending"


def test_describe_pod_shows_container_state_and_restart_count(kubectl: Kubectl) -> None:
    kubectl("create", "-f", "-", input=to_yaml(pod("crash")))
    kubectl("patch", "pod", "crash", "--subresource=status", "--type=merge", "-p",
            json.dumps({"status": STATUSES["crash"]}))
    out = kubectl("describe", "pod", "crash")
    assert re.search(r"^Status:\s+Running$", out, re.M), out
    assert re.search(r"^\s+State:\s+Waiting$", out, re.M), out
    assert re.search(r"^\s+Reason:\s+CrashLoopBackOff$", out, re.M), out
    assert re.search(r"^\s+Last State:\s+Terminated$", out, re.M), out
    assert re.search(r"^\s+Exit Code:\s+1$", out, re.M), out
    assert re.search(r"^\s+Restart Count:\s+4$", out, re.M), out


def test_pod_being_deleted_shows_terminating(kubectl: Kubectl) -> None:
    held = pod("web")
    held["metadata"]["finalizers"] = ["example.com/hold"]
    kubectl("create", "-f", "-", input=to_yaml(held))
    assert kubectl("delete", "pod", "web", "--wait=false") == 'pod "web" deleted\n'
    assert table_rows_by_name(kubectl("get", "pods"))["web"]["STATUS"] == "Terminating"
    kubectl("patch", "pod", "web", "--type=merge", "-p", '{"metadata":{"finalizers":null}}')


def test_get_pods_wide_shows_ip_and_node(kubectl: Kubectl) -> None:
    kubectl("create", "-f", "-", input=to_yaml(pod("web")))
    kubectl("patch", "pod", "web", "--subresource=status", "--type=merge", "-p",
            json.dumps({"status": {"phase": "Running", "podIP": "10.244.1.7", "podIPs": [{"ip": "10.244.1.7"}]}}))
    header, *rows = kubectl("get", "pods", "-o", "wide").splitlines()
    assert header.split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED", "NODE",
                              "READINESS", "GATES"]
    row = table_rows_by_name("\n".join([header, *rows]))["web"]
    assert (row["STATUS"], row["IP"], row["NODE"]) == ("Running", "10.244.1.7", "<none>")
