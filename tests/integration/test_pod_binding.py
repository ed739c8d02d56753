"""pods/<name>/binding and the older bindings: how a scheduler assigns a pod to a node, as kube-apiserver serves it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from tests.conftest import ApiServer, Kubectl
from tests.integration.support import assert_status, http, mint, table_rows_by_name, to_yaml, workspace_url

POD = {
    "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
    "spec": {"containers": [{"name": "app", "image": "nginx"}]},
}


def binding(pod: str, node: str, **metadata: object) -> dict:
    return {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": pod, **metadata},
            "target": {"apiVersion": "v1", "kind": "Node", "name": node}}


@pytest.fixture
def core(kubectl: Kubectl) -> Iterator[client.CoreV1Api]:
    api = config.new_client_from_config(config_file=str(kubectl.kubeconfig))
    try:
        yield client.CoreV1Api(api)
    finally:
        api.close()


@pytest.fixture
def pods_url(apiserver: ApiServer, kubectl: Kubectl) -> str:
    kubectl("create", "-f", "-", input=to_yaml(POD))
    return f"{workspace_url(apiserver, kubectl.workspace)}/api/v1/namespaces/default/pods"


def scheduled(pod: client.V1Pod) -> client.V1PodCondition:
    return next(c for c in pod.status.conditions or [] if c.type == "PodScheduled")


def test_the_python_client_binds_a_pod_and_a_second_binding_conflicts(kubectl: Kubectl,
                                                                      core: client.CoreV1Api) -> None:
    core.create_namespaced_pod("default", client.V1Pod(
        metadata=client.V1ObjectMeta(name="web"),
        spec=client.V1PodSpec(containers=[client.V1Container(name="app", image="nginx")]),
    ))
    body = client.V1Binding(metadata=client.V1ObjectMeta(name="web", annotations={"scheduled-by": "me"}),
                            target=client.V1ObjectReference(kind="Node", name="node-a"))
    # The client would read the answer as a V1Binding, but the server answers with a Status, as kube-apiserver does.
    response = core.create_namespaced_pod_binding("web", "default", body, _preload_content=False)
    assert response.status == 201
    assert json.loads(response.data) == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                                         "code": 201}

    pod = core.read_namespaced_pod("web", "default")
    assert pod.spec.node_name == "node-a"
    assert pod.metadata.annotations == {"scheduled-by": "me"}
    condition = scheduled(pod)
    assert (condition.status, condition.reason, condition.message) == ("True", None, None)
    assert condition.last_transition_time is not None
    assert table_rows_by_name(kubectl("get", "pod", "web", "-o", "wide"))["web"]["NODE"] == "node-a"

    with pytest.raises(ApiException) as refused:
        core.create_namespaced_pod_binding("web", "default", client.V1Binding(
            metadata=client.V1ObjectMeta(name="web"), target=client.V1ObjectReference(kind="Node", name="node-b"),
        ), _preload_content=False)
    assert refused.value.status == 409
    assert json.loads(refused.value.body)["message"] == (
        'Operation cannot be fulfilled on pods/binding "web": pod web is already assigned to node "node-a"'
    )
    assert core.read_namespaced_pod("web", "default").spec.node_name == "node-a"


def test_the_older_bindings_resource_binds_too(core: client.CoreV1Api, pods_url: str) -> None:
    response = core.create_namespaced_binding("default", client.V1Binding(
        metadata=client.V1ObjectMeta(name="web"), target=client.V1ObjectReference(kind="Node", name="node-a"),
    ), _preload_content=False)
    assert response.status == 201
    assert core.read_namespaced_pod("web", "default").spec.node_name == "node-a"


def test_kubectl_creates_a_binding_from_a_manifest(kubectl: Kubectl, pods_url: str) -> None:
    # kubectl validates a kind without a PATCH operation by asking whether it is a custom resource, which needs the
    # CustomResourceDefinition API Canopy does not serve: its own validation is turned off here.
    out = kubectl("create", "--validate=false", "-f", "-", input=to_yaml(binding("web", "node-a")))
    assert out == "status/<unknown> created\n"  # what came back is a Status, and kubectl says so
    assert kubectl("get", "pod", "web", "-o", "jsonpath={.spec.nodeName}") == "node-a"


def test_binding_a_missing_pod_is_not_found(pods_url: str) -> None:
    status, body, _ = http("POST", f"{pods_url}/ghost/binding", binding("ghost", "node-a"))
    assert status == 404
    assert assert_status(body, 404, "NotFound")["message"] == 'pods "ghost" not found'


@pytest.mark.parametrize(("sent", "code", "reason", "message"), [
    (binding("other", "node-a"), 400, "BadRequest", "name in URL does not match name in Binding object"),
    ({**binding("web", "node-a"), "kind": "Pod"}, 400, "BadRequest", "not a Binding object: the request body is a Pod"),
    (binding("web", "node-a", namespace="elsewhere"), 400, "BadRequest",
     "the namespace of the provided object does not match the namespace sent on the request"),
    ({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "web"}, "target": {"kind": "Node"}}, 422, "Invalid",
     'Binding "web" is invalid: target.name: Required value'),
    ({**binding("web", "node-a"), "target": {"kind": "Pod", "name": "x"}}, 422, "Invalid",
     'Binding "web" is invalid: target.kind: Unsupported value: "Pod": supported values: "Node", "<empty>"'),
])
def test_a_bad_binding_is_refused_and_the_pod_stays_unassigned(pods_url: str, sent: dict, code: int, reason: str,
                                                               message: str) -> None:
    status, body, _ = http("POST", f"{pods_url}/web/binding", sent)
    assert status == code
    assert assert_status(body, code, reason)["message"] == message
    _, pod, _ = http("GET", f"{pods_url}/web")
    assert "nodeName" not in pod["spec"]


def test_a_pod_already_assigned_is_not_bound_again(pods_url: str) -> None:
    assert http("POST", f"{pods_url}/web/binding", binding("web", "node-a"))[0] == 201
    status, body, _ = http("POST", f"{pods_url}/web/binding", binding("web", "node-b"))
    assert status == 409
    assert assert_status(body, 409, "Conflict")["message"] == (
        'Operation cannot be fulfilled on pods/binding "web": pod web is already assigned to node "node-a"'
    )
    assert body["details"] == {"name": "web", "kind": "pods/binding"}


def test_a_binding_for_another_uid_conflicts(pods_url: str) -> None:
    status, body, _ = http("POST", f"{pods_url}/web/binding", binding("web", "node-a", uid="not-the-uid"))
    assert status == 409
    _, pod, _ = http("GET", f"{pods_url}/web")
    assert assert_status(body, 409, "Conflict")["message"] == (
        'Operation cannot be fulfilled on pods "web": Precondition failed: UID in precondition: not-the-uid, UID in '
        f"object meta: {pod['metadata']['uid']}"
    )
    assert "nodeName" not in pod["spec"]


def test_a_gated_pod_cannot_be_bound(apiserver: ApiServer, kubectl: Kubectl) -> None:
    gated = {**POD, "metadata": {"name": "gated"}, "spec": {**POD["spec"], "schedulingGates": [{"name": "wait"}]}}
    kubectl("create", "-f", "-", input=to_yaml(gated))
    url = f"{workspace_url(apiserver, kubectl.workspace)}/api/v1/namespaces/default/pods/gated/binding"
    status, body, _ = http("POST", url, binding("gated", "node-a"))
    assert status == 409
    assert assert_status(body, 409, "Conflict")["message"] == (
        'Operation cannot be fulfilled on pods/binding "gated": pod gated has non-empty .spec.schedulingGates'
    )


def test_a_dry_run_binding_assigns_nothing(pods_url: str) -> None:
    assert http("POST", f"{pods_url}/web/binding?dryRun=All", binding("web", "node-a"))[0] == 201
    _, pod, _ = http("GET", f"{pods_url}/web")
    assert "nodeName" not in pod["spec"]


def test_a_pod_update_cannot_assign_a_node(pods_url: str) -> None:
    _, pod, _ = http("GET", f"{pods_url}/web")
    pod["spec"]["nodeName"] = "node-a"
    status, body, _ = http("PUT", f"{pods_url}/web", pod)
    assert status == 422
    assert "pod updates may not change fields other than" in assert_status(body, 422, "Invalid")["message"]
    assert "spec.nodeName" in body["message"]


def test_post_to_a_pod_itself_is_not_allowed(pods_url: str) -> None:
    status, body, _ = http("POST", f"{pods_url}/web", POD)
    assert status == 405
    assert_status(body, 405, "MethodNotAllowed")


def test_discovery_lists_the_binding_subresource_and_the_bindings_resource(apiserver: ApiServer,
                                                                        kubectl: Kubectl) -> None:
    _, doc, _ = http("GET", f"{workspace_url(apiserver, kubectl.workspace)}/api/v1")
    entries = {r["name"]: r for r in doc["resources"]}
    assert entries["pods/binding"] == {"name": "pods/binding", "singularName": "", "namespaced": True,
                                       "kind": "Binding", "verbs": ["create"]}
    assert (entries["bindings"]["kind"], entries["bindings"]["verbs"]) == ("Binding", ["create"])


def test_binding_needs_create_on_pods_binding(apiserver: ApiServer, kubectl: Kubectl, pods_url: str,
                                              tmp_path: Path) -> None:
    kubectl("create", "rolebinding", "carol-edit", "--clusterrole=edit", "--user=carol")
    carol = mint(apiserver, kubectl.workspace, "carol", tmp_path / "carol.kubeconfig")
    path = f"/clusters/{kubectl.workspace}/api/v1/namespaces/default/pods/web/binding"  # --raw ignores the server path
    assert carol.run("auth", "can-i", "create", "pods", "--subresource=binding", check=False).stdout == "no\n"
    refused = carol.run("create", "--raw", path, "-f", "-", input=json.dumps(binding("web", "node-a")), check=False)
    assert 'User "carol" cannot create resource "pods/binding" in API group "" in the namespace "default"' in (
        refused.stderr
    )
    kubectl("create", "role", "binder", "--verb=create", "--resource=pods/binding")
    kubectl("create", "rolebinding", "carol-binder", "--role=binder", "--user=carol")
    assert carol("auth", "can-i", "create", "pods", "--subresource=binding") == "yes\n"
    assert json.loads(carol("create", "--raw", path, "-f", "-", input=json.dumps(binding("web", "node-a"))))[
        "status"] == "Success"
    assert kubectl("get", "pod", "web", "-o", "jsonpath={.spec.nodeName}") == "node-a"
