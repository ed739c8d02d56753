"""Pods are deleted gracefully once they are on a node, as kube-apiserver does: they stay Terminating until the
node's kubelet (here: whoever deletes with grace period 0) lets them go."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import Kubectl
from tests.integration.support import table_rows_by_name, to_yaml


def pod(name: str, node: str | None) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": "app", "image": "busybox"}]}
    if node:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def meta(kubectl: Kubectl, name: str) -> dict[str, Any] | None:
    result = kubectl.run("get", "pod", name, "-o", "json", check=False)
    return json.loads(result.stdout)["metadata"] if result.returncode == 0 else None


def test_a_pod_that_never_reached_a_node_is_deleted_at_once(kubectl: Kubectl) -> None:
    kubectl("create", "-f", "-", input=to_yaml(pod("floating", None)))
    assert kubectl("delete", "pod", "floating", "--wait=false") == 'pod "floating" deleted\n'
    assert meta(kubectl, "floating") is None


def test_a_pod_on_a_node_terminates_for_its_grace_period_until_finally_deleted(kubectl: Kubectl) -> None:
    kubectl("create", "-f", "-", input=to_yaml(pod("web", "node-1")))
    assert kubectl("delete", "pod", "web", "--wait=false") == 'pod "web" deleted\n'

    terminating = meta(kubectl, "web")
    assert terminating is not None
    assert terminating["deletionGracePeriodSeconds"] == 30  # the pod's terminationGracePeriodSeconds
    assert table_rows_by_name(kubectl("get", "pods"))["web"]["STATUS"] == "Terminating"

    # A status write from the node during termination does not end it early.
    kubectl("patch", "pod", "web", "--subresource=status", "--type=merge", "-p", '{"status":{"phase":"Running"}}')
    assert meta(kubectl, "web") is not None

    kubectl("delete", "pod", "web", "--grace-period=0", "--force")
    assert meta(kubectl, "web") is None


def test_a_later_delete_may_shorten_the_grace_period_but_never_lengthen_it(kubectl: Kubectl) -> None:
    kubectl("create", "-f", "-", input=to_yaml(pod("web", "node-1")))
    kubectl("delete", "pod", "web", "--wait=false", "--grace-period=20")
    kubectl("delete", "pod", "web", "--wait=false", "--grace-period=60")
    first = meta(kubectl, "web")
    assert first is not None and first["deletionGracePeriodSeconds"] == 20
    kubectl("delete", "pod", "web", "--wait=false", "--grace-period=5")
    shortened = meta(kubectl, "web")
    assert shortened is not None and shortened["deletionGracePeriodSeconds"] == 5
    assert shortened["deletionTimestamp"] < first["deletionTimestamp"]
