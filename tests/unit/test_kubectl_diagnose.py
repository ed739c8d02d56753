"""The pure parts of `kubectl diagnose`: naming the target, the --keep-alive copy, and what the user reads."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from controlplane.diagnosis import Finding
from controlplane.kubectl_diagnose import DEBUG_LABEL, DiagnoseError, debug_copy, render, target_name

ORIGINAL: dict[str, Any] = {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "api", "namespace": "shop", "uid": "u-1", "resourceVersion": "42",
                 "labels": {"team": "a"}},
    "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "api"}}, "template": {
        "metadata": {"labels": {"app": "api"}},
        "spec": {"containers": [{"name": "api", "image": "busybox:1.36", "command": ["sh", "-c", "exit 1"],
                                 "args": ["x"], "env": [{"name": "MODE", "value": "fast"}],
                                 "livenessProbe": {"httpGet": {"path": "/", "port": 80}},
                                 "readinessProbe": {"httpGet": {"path": "/", "port": 80}},
                                 "startupProbe": {"httpGet": {"path": "/", "port": 80}}}]}}},
    "status": {"replicas": 3},
}


@pytest.mark.parametrize("target", ["deploy/api", "deployment/api", "deployments.apps/api", "api"])
def test_a_deployment_is_named_as_kubectl_names_it(target: str) -> None:
    assert target_name(target) == "api"


@pytest.mark.parametrize("target", ["pod/api", "deploy/"])
def test_anything_else_is_refused_saying_what_to_write(target: str) -> None:
    with pytest.raises(DiagnoseError, match="as deploy/NAME"):
        target_name(target)


def test_the_kept_alive_copy_sleeps_without_probes_and_keeps_everything_else() -> None:
    before = copy.deepcopy(ORIGINAL)
    made = debug_copy(ORIGINAL)
    assert before == ORIGINAL, "the original is never changed"
    assert made["metadata"]["name"] == "api-debug"
    assert set(made["metadata"]) == {"name", "labels", "annotations"}, "no uid, resourceVersion or namespace copied"
    assert made["spec"]["replicas"] == 1
    container = made["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["sleep", "infinity"] and "args" not in container
    assert not {"livenessProbe", "readinessProbe", "startupProbe"} & set(container)
    assert container["env"] == [{"name": "MODE", "value": "fast"}] and container["image"] == "busybox:1.36"


def test_the_copys_pods_are_never_the_originals() -> None:
    made = debug_copy(ORIGINAL)
    labels = made["spec"]["template"]["metadata"]["labels"]
    assert labels == made["spec"]["selector"]["matchLabels"] == {DEBUG_LABEL: "api"}
    assert "app" not in labels, "no Service selecting app=api sends it traffic; no ReplicaSet of api counts it"


FINDING = Finding("OOMKilled", "edge-1", "api", ("api-1.edge-1", "api-2.edge-1"),
                  "container api went over its memory limit 100Mi",
                  ("Last State: Terminated, OOMKilled, Exit Code 137",),
                  "raise limits.memory of api from 100Mi to 200Mi",
                  ("kubectl set resources deployment/api -c api --limits=memory=200Mi",), 3)


def pods(count: int) -> list[dict[str, Any]]:
    return [{"metadata": {"name": f"api-{i}.edge-1"}} for i in range(1, count + 1)]


def test_the_report_gives_cause_cluster_pods_evidence_fix_and_next_commands() -> None:
    assert render("api", "shop", pods(3), [FINDING]) == (
        "Deployment api in namespace shop: 2 of 3 pods failing\n"
        "\n"
        "OOMKilled on cluster edge-1 (container api; pods api-1.edge-1, api-2.edge-1)\n"
        "  container api went over its memory limit 100Mi\n"
        "  Evidence:\n"
        "    Last State: Terminated, OOMKilled, Exit Code 137\n"
        "  Fix: raise limits.memory of api from 100Mi to 200Mi\n"
        "  Next:\n"
        "    kubectl set resources deployment/api -c api --limits=memory=200Mi\n"
        "\n"
        "To look into a container that crashes at once: kubectl diagnose deploy/api --keep-alive\n"
    )


def test_a_healthy_deployment_says_so() -> None:
    assert render("api", "shop", pods(2), []) == "Deployment api in namespace shop: 0 of 2 pods failing\n" \
                                                 "No pod is failing.\n"


def test_a_deployment_without_pods_has_nothing_to_diagnose() -> None:
    assert "has no pods yet" in render("api", "shop", [], [])
