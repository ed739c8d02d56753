"""Bad requests, over raw HTTP: each gets kube-apiserver's `kind: Status` answer, and the server keeps serving.

After each refused request a normal request still works and nothing was stored.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import ApiServer, Kubectl
from tests.integration.support import assert_status, configmap, deployment, http, to_yaml, workspace_url


@pytest.fixture
def base(apiserver: ApiServer, kubectl: Kubectl) -> str:
    return workspace_url(apiserver, kubectl.workspace)


def cm_url(base: str, name: str = "") -> str:
    return f"{base}/api/v1/namespaces/default/configmaps" + (f"/{name}" if name else "")


def stored_configmaps(base: str) -> list[str]:
    """A normal request (it must still work) listing what is stored."""
    status, body, _ = http("GET", cm_url(base))
    assert status == 200, body
    assert body["kind"] == "ConfigMapList"
    return [item["metadata"]["name"] for item in body["items"] if item["metadata"]["name"] != "kube-root-ca.crt"]


def test_malformed_json_is_400_and_says_it_is_not_json(base: str) -> None:
    status, body, _ = http("POST", cm_url(base), '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"')
    assert status == 400
    assert "json" in assert_status(body, 400, "BadRequest")["message"].lower()
    assert stored_configmaps(base) == []


def test_malformed_yaml_is_400_and_says_it_is_not_yaml(base: str) -> None:
    status, body, _ = http("POST", cm_url(base), "apiVersion: v1\nkind: ConfigMap\nmetadata: [name: x\n",
                           content_type="application/yaml")
    assert status == 400
    assert "yaml" in assert_status(body, 400, "BadRequest")["message"].lower()
    assert stored_configmaps(base) == []


def test_yaml_body_is_accepted(base: str) -> None:
    status, body, _ = http("POST", cm_url(base), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"
                           "data:\n  k: v\n", content_type="application/yaml")
    assert status == 201, body
    assert body["data"] == {"k": "v"}
    assert stored_configmaps(base) == ["x"]


def test_body_of_another_kind_than_the_url_is_400(base: str) -> None:
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}, "data": {"k": "dg=="}}
    status, body, _ = http("POST", cm_url(base), secret)
    assert status == 400
    assert_status(body, 400, "BadRequest")
    assert "Secret" in body["message"]
    assert stored_configmaps(base) == []


def test_body_of_another_api_version_than_the_url_is_400(base: str) -> None:
    status, body, _ = http("POST", cm_url(base), {**configmap("x"), "apiVersion": "apps/v1"})
    assert status == 400
    assert_status(body, 400, "BadRequest")
    assert "apps/v1" in body["message"]
    assert stored_configmaps(base) == []


def test_body_over_3_mib_is_413(base: str) -> None:
    big = json.dumps(configmap("big", {"blob": "x" * (3 * 1024 * 1024 + 1024)}))
    status, body, _ = http("POST", cm_url(base), big)
    assert status == 413
    assert assert_status(body, 413, "RequestEntityTooLarge")["message"].startswith(
        "Request entity too large: limit is 3145728"
    )
    assert stored_configmaps(base) == []


def test_invalid_name_is_422_with_a_cause_naming_metadata_name(base: str) -> None:
    status, body, _ = http("POST", cm_url(base), configmap("Bad_Name"))
    assert status == 422
    assert_status(body, 422, "Invalid")
    assert body["message"].startswith(
        'ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain'
    ), body["message"]
    assert body["details"]["name"] == "Bad_Name"
    assert body["details"]["kind"] == "ConfigMap"
    causes = body["details"]["causes"]
    assert [(c["reason"], c["field"]) for c in causes] == [("FieldValueInvalid", "metadata.name")]
    assert causes[0]["message"].startswith('Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain')
    assert stored_configmaps(base) == []


def test_invalid_name_through_kubectl_prints_the_field(kubectl: Kubectl) -> None:
    result = kubectl.run("create", "-f", "-", input=to_yaml(configmap("Bad_Name")), check=False)
    assert result.returncode == 1
    assert result.stderr.startswith(
        'The ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 '
        "subdomain must consist of lower case alphanumeric characters"
    ), result.stderr


def test_stale_resource_version_on_update_is_409(base: str) -> None:
    status, created, _ = http("POST", cm_url(base), configmap("x", {"v": "1"}))
    assert status == 201
    stale = created["metadata"]["resourceVersion"]
    status, _, _ = http("PUT", cm_url(base, "x"), {**configmap("x", {"v": "2"}),
                                                   "metadata": {"name": "x", "resourceVersion": stale}})
    assert status == 200
    status, body, _ = http("PUT", cm_url(base, "x"), {**configmap("x", {"v": "3"}),
                                                      "metadata": {"name": "x", "resourceVersion": stale}})
    assert status == 409
    assert assert_status(body, 409, "Conflict")["message"] == (
        'Operation cannot be fulfilled on configmaps "x": the object has been modified; please apply your changes '
        "to the latest version and try again"
    )
    assert body["details"] == {"name": "x", "kind": "configmaps"}
    assert http("GET", cm_url(base, "x"))[1]["data"] == {"v": "2"}


def test_unknown_resource_is_404(base: str) -> None:
    for path in ("/api/v1/namespaces/default/widgets", "/apis/example.com/v1/widgets", "/apis/apps/v9/deployments"):
        status, body, _ = http("GET", base + path)
        assert status == 404, path
        assert assert_status(body, 404, "NotFound")["message"] == "the server could not find the requested resource"
    assert stored_configmaps(base) == []


def test_missing_object_is_404_naming_it(base: str) -> None:
    status, body, _ = http("GET", cm_url(base, "ghost"))
    assert status == 404
    assert assert_status(body, 404, "NotFound")["message"] == 'configmaps "ghost" not found'
    assert body["details"] == {"name": "ghost", "kind": "configmaps"}


def test_unsupported_media_type_is_415(base: str) -> None:
    status, body, _ = http("POST", cm_url(base), "name=x", content_type="text/plain")
    assert status == 415
    assert assert_status(body, 415, "UnsupportedMediaType")["message"].startswith(
        "the body of the request was in an unknown format - accepted media types include: application/json, "
        "application/yaml"
    ), body["message"]
    assert stored_configmaps(base) == []


def test_patch_with_plain_json_content_type_is_415(base: str) -> None:
    assert http("POST", cm_url(base), configmap("x", {"v": "1"}))[0] == 201
    status, body, _ = http("PATCH", cm_url(base, "x"), {"data": {"v": "2"}}, content_type="application/json")
    assert status == 415
    message = assert_status(body, 415, "UnsupportedMediaType")["message"]
    assert message.startswith("the body of the request was in an unknown format - accepted media types include: ")
    assert "application/merge-patch+json" in message
    assert http("GET", cm_url(base, "x"))[1]["data"] == {"v": "1"}


def test_wrong_method_is_405(base: str) -> None:
    status, body, _ = http("PUT", cm_url(base), configmap("x"))
    assert status == 405
    assert assert_status(body, 405, "MethodNotAllowed")["message"].startswith(
        "the server does not allow this method on the requested resource"
    )
    status, body, _ = http("POST", cm_url(base, "x"), configmap("x"))
    assert status == 405
    assert_status(body, 405, "MethodNotAllowed")
    assert stored_configmaps(base) == []


def test_name_in_body_not_matching_url_is_400(base: str) -> None:
    assert http("POST", cm_url(base), configmap("a", {"v": "1"}))[0] == 201
    status, body, _ = http("PUT", cm_url(base, "a"), configmap("b", {"v": "2"}))
    assert status == 400
    assert "the name of the object (b) does not match the name on the URL (a)" in assert_status(
        body, 400, "BadRequest"
    )["message"]
    assert stored_configmaps(base) == ["a"]
    assert http("GET", cm_url(base, "a"))[1]["data"] == {"v": "1"}


def test_namespace_in_body_not_matching_url_is_400(base: str) -> None:
    status, body, _ = http("POST", cm_url(base), configmap("x", namespace="kube-system"))
    assert status == 400
    assert "does not match the namespace" in assert_status(body, 400, "BadRequest")["message"]
    assert stored_configmaps(base) == []


def test_resource_version_on_create_is_rejected(base: str) -> None:
    status, body, _ = http("POST", cm_url(base), configmap("x", resourceVersion="12"))
    assert status == 400
    assert "resourceVersion should not be set on objects to be created" in assert_status(
        body, 400, "BadRequest"
    )["message"]
    assert stored_configmaps(base) == []


def test_create_in_missing_namespace_is_404(base: str) -> None:
    status, body, _ = http("POST", f"{base}/api/v1/namespaces/nowhere/configmaps", configmap("x"))
    assert status == 404
    assert assert_status(body, 404, "NotFound")["message"] == 'namespaces "nowhere" not found'


def test_strict_field_validation_rejects_unknown_field(base: str) -> None:
    body = {**configmap("x"), "spec": {"foo": 1}}
    status, reply, _ = http("POST", cm_url(base) + "?fieldValidation=Strict", body)
    assert status == 400
    assert 'strict decoding error: unknown field "spec"' in assert_status(reply, 400, "BadRequest")["message"]
    assert stored_configmaps(base) == []


def test_strict_field_validation_message_names_the_kind_and_field(base: str) -> None:
    body = deployment("web")
    body["spec"]["foo"] = "bar"
    status, reply, _ = http("POST", f"{base}/apis/apps/v1/namespaces/default/deployments?fieldValidation=Strict", body)
    assert status == 400
    assert assert_status(reply, 400, "BadRequest")["message"] == (
        'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.foo"'
    )
    status, listed, _ = http("GET", f"{base}/apis/apps/v1/namespaces/default/deployments")
    assert (status, listed["items"]) == (200, [])


def test_warn_field_validation_stores_object_without_unknown_field_and_warns(base: str) -> None:
    body = {**configmap("x", {"k": "v"}), "spec": {"foo": 1}}
    status, reply, headers = http("POST", cm_url(base) + "?fieldValidation=Warn", body)
    assert status == 201, reply
    assert "spec" not in reply
    assert headers.get("Warning") == '299 - "unknown field \\"spec\\""'
    assert "spec" not in http("GET", cm_url(base, "x"))[1]


def test_invalid_field_validation_value_is_400(base: str) -> None:
    status, body, _ = http("POST", cm_url(base) + "?fieldValidation=Sometimes", configmap("x"))
    assert status == 400
    assert_status(body, 400, "BadRequest")
    assert stored_configmaps(base) == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("resourceVersionMatch=Exact",
         'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden '
         "unless resourceVersion is provided"),
        ("resourceVersionMatch=Exact&resourceVersion=0",
         'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch "exact" is '
         'forbidden for resourceVersion "0"'),
        ("resourceVersionMatch=Sometimes&resourceVersion=1",
         'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Unsupported value: "Sometimes": supported '
         'values: "Exact", "NotOlderThan", ""'),
    ],
)
def test_invalid_list_options_are_422(base: str, query: str, message: str) -> None:
    status, body, _ = http("GET", f"{cm_url(base)}?{query}")
    assert status == 422, body
    assert assert_status(body, 422, "Invalid")["message"] == message


def test_invalid_label_selector_is_400(base: str) -> None:
    status, body, _ = http("GET", f"{cm_url(base)}?labelSelector=a%20in%20(")
    assert status == 400
    assert assert_status(body, 400, "BadRequest")["message"].startswith("unable to parse requirement: ")


def test_invalid_propagation_policy_is_422(base: str) -> None:
    assert http("POST", cm_url(base), configmap("x"))[0] == 201
    status, body, _ = http("DELETE", f"{cm_url(base, 'x')}?propagationPolicy=Sometimes")
    assert status == 422
    assert assert_status(body, 422, "Invalid")["message"].startswith(
        'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: '
    ), body["message"]
    assert body["details"]["group"] == "meta.k8s.io"
    assert stored_configmaps(base) == ["x"]


def test_server_keeps_serving_after_a_burst_of_bad_requests(base: str) -> None:
    for _ in range(20):
        http("POST", cm_url(base), "{not json")
        http("POST", cm_url(base), "x: [", content_type="application/yaml")
        http("GET", base + "/api/v1/namespaces/default/widgets")
    assert http("POST", cm_url(base), configmap("ok"))[0] == 201
    assert stored_configmaps(base) == ["ok"]
