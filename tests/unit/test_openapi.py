"""The OpenAPI v2 and v3 documents, checked the way kubectl 1.32 reads them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from api.registry import BUILTIN, Registry, ResourceType
from controlplane.openapi import (
    document_hash,
    group_version_of_path,
    openapi_v2,
    openapi_v3_group_version,
    openapi_v3_path,
    openapi_v3_root,
)

GVK = dict[str, str]
SMP = "application/strategic-merge-patch+json"
WIDGETS = ResourceType("canopy.dev", "v1alpha1", "Widget", "widgets", True, subresources=("status",))


def gvk(group: str, version: str, kind: str) -> GVK:
    return {"group": group, "kind": kind, "version": version}


def v3(group: str, version: str, registry: Registry = BUILTIN) -> dict[str, Any]:
    document = openapi_v3_group_version(registry, group, version)
    assert document is not None
    return document


def patch_operations(document: dict[str, Any], wanted: GVK) -> list[dict[str, Any]]:
    return [
        item["patch"]
        for item in document["paths"].values()
        if "patch" in item and item["patch"].get("x-kubernetes-group-version-kind") == wanted
    ]


def supports_query_param_v3(document: dict[str, Any], wanted: GVK, param: str) -> bool:
    """cli-runtime's `supportsQueryParamV3`: the first PATCH operation of the GVK decides.

    Go iterates the paths map in random order, so the answer is only stable if every PATCH operation of the GVK
    agrees; this returns True only when all of them carry the parameter.
    """
    operations = patch_operations(document, wanted)
    return bool(operations) and all(
        any(p["name"] == param for p in operation.get("parameters", [])) for operation in operations
    )


def gvk_supports_strategic_patch_v3(document: dict[str, Any], wanted: GVK) -> bool:
    """kubectl apply's `gvkSupportsPatchOpenAPIV3`: the GVK's PATCH accepts strategic merge patch."""
    operations = patch_operations(document, wanted)
    return bool(operations) and all(SMP in op.get("requestBody", {}).get("content", {}) for op in operations)


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if ref is None:
        return node
    target: Any = document
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return target


def explain(document: dict[str, Any], group: str, version: str, plural: str, fields: list[str]) -> dict[str, Any]:
    """The schema `kubectl explain <plural>.<fields>` prints, found as explain/v2's plaintext template does."""
    prefix = f"/apis/{group}/{version}" if group else f"/api/{version}"
    found: GVK | None = None
    for path in (
        f"{prefix}/{plural}",
        f"{prefix}/{plural}/{{name}}",
        f"{prefix}/namespaces/{{namespace}}/{plural}",
        f"{prefix}/namespaces/{{namespace}}/{plural}/{{name}}",
    ):
        for method in ("get", "post", "put", "patch", "delete"):
            found = found or document["paths"].get(path, {}).get(method, {}).get("x-kubernetes-group-version-kind")
    assert found is not None, "no operation names the resource's GVK"
    roots = [
        schema
        for schema in document["components"]["schemas"].values()
        if found in schema.get("x-kubernetes-group-version-kind", [])
    ]
    assert len(roots) == 1
    return follow(document, roots[0], fields)


def follow(document: dict[str, Any], schema: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    if not fields:
        return schema
    resolved = resolve(document, schema)
    if fields[0] in resolved.get("properties", {}):
        return follow(document, resolved["properties"][fields[0]], fields[1:])
    if "items" in resolved:
        return follow(document, resolved["items"], fields)
    if isinstance(resolved.get("additionalProperties"), dict):
        return follow(document, resolved["additionalProperties"], fields)
    for alternative in resolved.get("allOf", []):
        return follow(document, alternative, fields)
    raise AssertionError(f"field {fields[0]!r} does not exist")


def descriptions(document: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """What explain prints under DESCRIPTION: the schema's description, then those of its allOf and refs."""
    resolved = resolve(document, schema)
    out = [resolved["description"]] if resolved.get("description") else []
    for alternative in resolved.get("allOf", []):
        out += descriptions(document, alternative)
    return out


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def patch_meta(document: dict[str, Any], kind: GVK, fields: list[str]) -> dict[str, Any]:
    """The extensions strategicpatch.PatchMetaFromOpenAPIV3 reads for a field, walking from the kind's schema."""
    (root,) = [
        s for s in document["components"]["schemas"].values() if kind in s.get("x-kubernetes-group-version-kind", [])
    ]
    schema: dict[str, Any] = root
    for name in fields:
        schema = resolve(document, schema)
        if schema.get("allOf"):
            schema = resolve(document, schema["allOf"][0])
        if "items" in schema:
            schema = resolve(document, schema["items"])
        schema = schema["properties"][name]
    return {key: value for key, value in schema.items() if key.startswith("x-kubernetes-")}


# The v3 root


def test_root_lists_every_group_version_with_its_content_hash() -> None:
    root = openapi_v3_root(BUILTIN)
    assert set(root["paths"]) == {
        "api/v1", "apis/apps/v1", "apis/rbac.authorization.k8s.io/v1", "apis/authentication.k8s.io/v1",
        "apis/authorization.k8s.io/v1", "apis/coordination.k8s.io/v1",
    }
    for path, entry in root["paths"].items():
        parsed = group_version_of_path(path)
        assert parsed is not None
        document = v3(*parsed)
        assert entry == {"serverRelativeURL": f"/openapi/v3/{path}?hash={document_hash(document)}"}


def test_hash_is_stable_and_follows_the_content() -> None:
    first = openapi_v3_root(BUILTIN)["paths"]["apis/apps/v1"]["serverRelativeURL"]
    assert openapi_v3_root(BUILTIN)["paths"]["apis/apps/v1"]["serverRelativeURL"] == first
    fewer = Registry([r for r in BUILTIN if r.kind != "ReplicaSet"])
    assert openapi_v3_root(fewer)["paths"]["apis/apps/v1"]["serverRelativeURL"] != first
    assert len(document_hash(v3("apps", "v1"))) == 128


@pytest.mark.parametrize(("group", "version", "path"), [("", "v1", "api/v1"), ("apps", "v1", "apis/apps/v1")])
def test_group_version_paths_round_trip(group: str, version: str, path: str) -> None:
    assert openapi_v3_path(group, version) == path
    assert group_version_of_path(path) == (group, version)
    assert group_version_of_path("/" + path + "/") == (group, version)


def test_unknown_group_versions_have_no_document() -> None:
    assert openapi_v3_group_version(BUILTIN, "batch", "v1") is None
    assert group_version_of_path("apis/apps") is None
    assert group_version_of_path("version") is None


# What kubectl decides from a v3 document


# Resources kubectl can patch (not the create-only self-reviews)
PATCHABLE = [r for r in BUILTIN if "patch" in r.verbs]


@pytest.mark.parametrize("resource", PATCHABLE, ids=lambda r: r.group_resource)
def test_kubectl_finds_server_side_field_validation_for_every_resource(resource: ResourceType) -> None:
    document = v3(resource.group, resource.version)
    assert supports_query_param_v3(document, gvk(resource.group, resource.version, resource.kind), "fieldValidation")


def test_field_validation_check_fails_without_the_parameter() -> None:
    document = v3("apps", "v1")
    operation = document["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status"]["patch"]
    operation["parameters"] = [p for p in operation["parameters"] if p["name"] != "fieldValidation"]
    assert not supports_query_param_v3(document, gvk("apps", "v1", "Deployment"), "fieldValidation")
    assert not supports_query_param_v3(v3("apps", "v1"), gvk("apps", "v1", "StatefulSet"), "fieldValidation")


@pytest.mark.parametrize("resource", PATCHABLE, ids=lambda r: r.group_resource)
def test_kubectl_apply_can_build_strategic_merge_patches(resource: ResourceType) -> None:
    kind = gvk(resource.group, resource.version, resource.kind)
    document = v3(resource.group, resource.version)
    assert gvk_supports_strategic_patch_v3(document, kind)
    matching = [
        s for s in document["components"]["schemas"].values() if kind in s.get("x-kubernetes-group-version-kind", [])
    ]
    assert len(matching) == 1


def test_apply_reads_patch_metadata_through_refs_and_arrays() -> None:
    document = v3("apps", "v1")
    deployment = gvk("apps", "v1", "Deployment")
    assert patch_meta(document, deployment, ["spec", "template", "spec", "containers"]) == {
        "x-kubernetes-list-map-keys": ["name"],
        "x-kubernetes-list-type": "map",
        "x-kubernetes-patch-merge-key": "name",
        "x-kubernetes-patch-strategy": "merge",
    }
    assert patch_meta(document, deployment, ["spec", "template", "spec", "containers", "ports"]) == {
        "x-kubernetes-list-map-keys": ["containerPort", "protocol"],
        "x-kubernetes-list-type": "map",
        "x-kubernetes-patch-merge-key": "containerPort",
        "x-kubernetes-patch-strategy": "merge",
    }
    assert patch_meta(document, deployment, ["spec", "strategy"]) == {"x-kubernetes-patch-strategy": "retainKeys"}
    assert patch_meta(document, deployment, ["metadata", "finalizers"]) == {
        "x-kubernetes-list-type": "set",
        "x-kubernetes-patch-strategy": "merge",
    }
    assert patch_meta(document, deployment, ["spec", "template", "spec", "volumes"])["x-kubernetes-patch-strategy"] == (
        "merge,retainKeys"
    )


def test_kubectl_explain_deployment_spec_replicas() -> None:
    document = v3("apps", "v1")
    replicas = explain(document, "apps", "v1", "deployments", ["spec", "replicas"])
    assert replicas["type"] == "integer"
    assert descriptions(document, replicas)[0].startswith("Number of desired pods.")


def test_kubectl_explain_walks_arrays_maps_and_wrapped_refs() -> None:
    document = v3("", "v1")
    image = explain(document, "", "v1", "pods", ["spec", "containers", "image"])
    assert image["type"] == "string" and "image" in image["description"].lower()
    spec = explain(document, "", "v1", "pods", ["spec"])
    assert descriptions(document, spec)[-1] == "PodSpec is a description of a pod."
    metadata = explain(document, "", "v1", "namespaces", ["metadata"])
    assert metadata["allOf"] == [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}]
    assert len(descriptions(document, metadata)) == 2  # the field's, then ObjectMeta's
    limits = explain(document, "", "v1", "pods", ["spec", "containers", "resources", "limits"])
    assert limits["additionalProperties"] == {
        "$ref": "#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity"
    }


def test_int_or_string_and_quantity_show_their_names_in_v3() -> None:
    schemas = v3("apps", "v1")["components"]["schemas"]
    int_or_string = schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]
    assert "type" not in int_or_string
    assert int_or_string["oneOf"] == [{"type": "integer"}, {"type": "string"}]
    assert int_or_string["x-kubernetes-int-or-string"] is True
    assert schemas["io.k8s.apimachinery.pkg.api.resource.Quantity"]["oneOf"] == [{"type": "string"}, {"type": "number"}]
    time = schemas["io.k8s.apimachinery.pkg.apis.meta.v1.Time"]
    assert (time["type"], time["format"]) == ("string", "date-time")
    max_surge = schemas["io.k8s.api.apps.v1.RollingUpdateDeployment"]["properties"]["maxSurge"]
    assert max_surge["allOf"] == [{"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.util.intstr.IntOrString"}]


# Document structure


@pytest.mark.parametrize(("group", "version"), [("", "v1"), ("apps", "v1")])
def test_every_v3_reference_resolves(group: str, version: str) -> None:
    document = v3(group, version)
    targets = set(refs(document))
    assert targets
    for target in targets:
        assert target.startswith("#/components/schemas/")
        assert target.removeprefix("#/components/schemas/") in document["components"]["schemas"]


def test_documents_are_json_and_deterministic() -> None:
    assert json.dumps(v3("", "v1"), sort_keys=True) == json.dumps(v3("", "v1"), sort_keys=True)
    assert json.loads(json.dumps(openapi_v2(BUILTIN))) == openapi_v2(BUILTIN)


def test_top_level_kinds_carry_their_group_version_kind() -> None:
    schemas = v3("apps", "v1")["components"]["schemas"]
    assert schemas["io.k8s.api.apps.v1.Deployment"]["x-kubernetes-group-version-kind"] == [
        gvk("apps", "v1", "Deployment")
    ]
    assert schemas["io.k8s.api.apps.v1.DeploymentList"]["x-kubernetes-group-version-kind"] == [
        gvk("apps", "v1", "DeploymentList")
    ]
    assert schemas["io.k8s.api.autoscaling.v1.Scale"]["x-kubernetes-group-version-kind"] == [
        gvk("autoscaling", "v1", "Scale")
    ]
    assert "x-kubernetes-group-version-kind" not in schemas["io.k8s.api.apps.v1.DeploymentSpec"]
    assert "io.k8s.api.core.v1.Pod" not in schemas  # only what apps/v1 refers to
    assert "io.k8s.api.core.v1.PodSpec" in schemas
    assert schemas["io.k8s.api.apps.v1.DeploymentSpec"]["required"] == ["selector", "template"]


def test_namespaced_resource_paths_and_operations() -> None:
    paths = v3("apps", "v1")["paths"]
    collection = paths["/apis/apps/v1/namespaces/{namespace}/deployments"]
    assert {"get", "post", "delete", "parameters"} == set(collection)
    assert collection["get"]["operationId"] == "listAppsV1NamespacedDeployment"
    assert collection["get"]["x-kubernetes-action"] == "list"
    assert collection["delete"]["x-kubernetes-action"] == "deletecollection"
    item = paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]
    assert {"get", "put", "patch", "delete", "parameters"} == set(item)
    assert [p["name"] for p in item["parameters"]] == ["name", "namespace", "pretty"]
    assert item["patch"]["operationId"] == "patchAppsV1NamespacedDeployment"
    assert set(item["patch"]["requestBody"]["content"]) == {
        "application/apply-patch+yaml",
        "application/json-patch+json",
        "application/merge-patch+json",
        SMP,
    }
    scale = paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"]
    assert scale["patch"]["x-kubernetes-group-version-kind"] == gvk("autoscaling", "v1", "Scale")
    assert "fieldValidation" in [p["name"] for p in scale["put"]["parameters"]]
    every = paths["/apis/apps/v1/deployments"]["get"]
    assert every["operationId"] == "listAppsV1DeploymentForAllNamespaces"
    assert "/apis/apps/v1/watch/namespaces/{namespace}/deployments/{name}" in paths


def test_cluster_scoped_resources_and_registry_verbs() -> None:
    paths = v3("", "v1")["paths"]
    namespaces = paths["/api/v1/namespaces"]
    assert "delete" not in namespaces  # namespaces have no deletecollection
    assert namespaces["post"]["operationId"] == "createCoreV1Namespace"
    assert [p["name"] for p in paths["/api/v1/namespaces/{name}"]["parameters"]] == ["name", "pretty"]
    assert paths["/api/v1/namespaces/{name}/status"]["patch"]["operationId"] == "patchCoreV1NamespaceStatus"
    log = paths["/api/v1/namespaces/{namespace}/pods/{name}/log"]["get"]
    assert log["responses"]["200"]["content"] == {"text/plain": {"schema": {"type": "string"}}}
    assert "/api/v1/namespaces/{namespace}/pods/{name}/scale" not in paths


def test_kinds_without_client_models_get_permissive_schemas_and_no_strategic_merge() -> None:
    registry = Registry([*BUILTIN, WIDGETS])
    document = v3("canopy.dev", "v1alpha1", registry)
    schemas = document["components"]["schemas"]
    widget = schemas["dev.canopy.v1alpha1.Widget"]
    assert widget["x-kubernetes-preserve-unknown-fields"] is True
    assert widget["x-kubernetes-group-version-kind"] == [gvk("canopy.dev", "v1alpha1", "Widget")]
    assert "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" in schemas
    widget_list = schemas["dev.canopy.v1alpha1.WidgetList"]
    assert widget_list["properties"]["items"]["items"] == {"$ref": "#/components/schemas/dev.canopy.v1alpha1.Widget"}
    kind = gvk("canopy.dev", "v1alpha1", "Widget")
    assert supports_query_param_v3(document, kind, "fieldValidation")
    assert not gvk_supports_strategic_patch_v3(document, kind)
    item = document["paths"]["/apis/canopy.dev/v1alpha1/namespaces/{namespace}/widgets/{name}"]
    assert item["get"]["operationId"] == "readCanopyDevV1alpha1NamespacedWidget"
    assert item["get"]["tags"] == ["canopyDev_v1alpha1"]
    assert "apis/canopy.dev/v1alpha1" in openapi_v3_root(registry)["paths"]


# Swagger 2.0


def test_v2_document_shape() -> None:
    document = openapi_v2(BUILTIN, version="v1.32.0")
    assert document["swagger"] == "2.0"
    assert document["info"]["version"] == "v1.32.0"
    for target in set(refs(document)):
        assert target.removeprefix("#/definitions/") in document["definitions"]
    patch = document["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert patch["x-kubernetes-group-version-kind"] == gvk("apps", "v1", "Deployment")
    assert SMP in patch["consumes"]
    body, *query = patch["parameters"]
    assert body == {
        "in": "body",
        "name": "body",
        "required": True,
        "schema": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch"},
    }
    validation = next(p for p in query if p["name"] == "fieldValidation")
    assert (validation["in"], validation["type"]) == ("query", "string")
    metadata = document["definitions"]["io.k8s.api.apps.v1.Deployment"]["properties"]["metadata"]
    assert metadata["$ref"] == "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    assert "allOf" not in metadata and metadata["description"]
    int_or_string = document["definitions"]["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]
    assert (int_or_string["type"], int_or_string["format"]) == ("string", "int-or-string")


def test_v2_merges_group_version_kinds_of_shared_definitions() -> None:
    delete_options = openapi_v2(BUILTIN)["definitions"]["io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"]
    assert gvk("", "v1", "DeleteOptions") in delete_options["x-kubernetes-group-version-kind"]
    assert gvk("apps", "v1", "DeleteOptions") in delete_options["x-kubernetes-group-version-kind"]
