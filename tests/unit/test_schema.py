"""The Kubernetes type tree read from the official client models, with the patch metadata of the Go types."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from api import schema as schema_module
from api.schema import (
    FIELDS_V1,
    INT_OR_STRING,
    LIST_META,
    MICRO_TIME,
    OBJECT_META,
    QUANTITY,
    TIME,
    Schema,
    definition,
    definition_name,
    permissive_schema,
    resolve_list_schema,
    resolve_schema,
    schema_for,
)


def field(root: Schema, path: str) -> Schema:
    """Follow a dotted path; `[]` steps into array items, `{}` into map values."""
    node = root
    for step in path.split("."):
        if step == "[]":
            assert node.items is not None
            node = node.items
        elif step == "{}":
            assert node.values is not None
            node = node.values
        else:
            child = node.child(step)
            assert child is not None, f"{step} missing under {node.type_name or node.kind}"
            node = child
    return node


def deployment() -> Schema:
    node = schema_for("apps", "v1", "Deployment")
    assert node is not None
    return node


def pod() -> Schema:
    node = schema_for("", "v1", "Pod")
    assert node is not None
    return node


@pytest.mark.parametrize(
    ("group", "version", "kind", "name"),
    [
        ("", "v1", "Pod", "io.k8s.api.core.v1.Pod"),
        ("apps", "v1", "Deployment", "io.k8s.api.apps.v1.Deployment"),
        ("meta.k8s.io", "v1", "ObjectMeta", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
        ("rbac.authorization.k8s.io", "v1", "Role", "io.k8s.api.rbac.v1.Role"),
        (
            "internal.apiserver.k8s.io",
            "v1alpha1",
            "StorageVersion",
            "io.k8s.api.apiserverinternal.v1alpha1.StorageVersion",
        ),
        (
            "apiextensions.k8s.io",
            "v1",
            "CustomResourceDefinition",
            "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition",
        ),
        ("canopy.dev", "v1alpha1", "Workspace", "dev.canopy.v1alpha1.Workspace"),
    ],
)
def test_definition_names_follow_kube_apiserver(group: str, version: str, kind: str, name: str) -> None:
    assert definition_name(group, version, kind) == name


def test_deployment_replicas_has_type_format_and_description() -> None:
    replicas = field(deployment(), "spec.replicas")
    assert (replicas.kind, replicas.format) == ("integer", "int32")
    assert replicas.description.startswith("Number of desired pods.")


def test_top_level_kind_carries_its_name_description_and_standard_fields() -> None:
    node = deployment()
    assert node.type_name == "io.k8s.api.apps.v1.Deployment"
    assert node.description.startswith("Deployment enables declarative updates")
    assert {"apiVersion", "kind", "metadata", "spec", "status"} <= set(node.properties)
    assert "Attributes:" not in node.description


def test_nested_types_are_named_after_their_go_package() -> None:
    spec = field(deployment(), "spec")
    assert spec.type_name == "io.k8s.api.apps.v1.DeploymentSpec"
    assert field(spec, "template").type_name == "io.k8s.api.core.v1.PodTemplateSpec"
    assert field(spec, "template.spec.containers.[]").type_name == "io.k8s.api.core.v1.Container"
    assert field(spec, "selector").type_name == "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector"
    assert field(deployment(), "metadata").type_name == OBJECT_META


def test_kinds_resolve_only_in_their_own_group() -> None:
    assert schema_for("apps", "v1", "Pod") is None
    assert schema_for("", "v1", "Deployment") is None
    assert schema_for("apps", "v1", "NoSuchKind") is None
    core_event = schema_for("", "v1", "Event")
    events_event = schema_for("events.k8s.io", "v1", "Event")
    assert core_event is not None and events_event is not None
    assert core_event.type_name == "io.k8s.api.core.v1.Event"
    assert events_event.type_name == "io.k8s.api.events.v1.Event"


def test_scale_subresource_type_is_autoscaling() -> None:
    scale = schema_for("autoscaling", "v1", "Scale")
    assert scale is not None
    assert field(scale, "spec").type_name == "io.k8s.api.autoscaling.v1.ScaleSpec"
    assert field(scale, "spec.replicas").kind == "integer"


@pytest.mark.parametrize(
    "path",
    [
        "spec.strategy.rollingUpdate.maxSurge",
        "spec.strategy.rollingUpdate.maxUnavailable",
        "spec.template.spec.containers.[].livenessProbe.httpGet.port",
        "spec.template.spec.containers.[].readinessProbe.tcpSocket.port",
    ],
)
def test_int_or_string_fields(path: str) -> None:
    node = field(deployment(), path)
    assert (node.kind, node.type_name, node.format) == ("int-or-string", INT_OR_STRING, "int-or-string")
    assert node.description  # the field's own description, not the shared type's


def test_service_target_port_is_int_or_string() -> None:
    service = schema_for("", "v1", "Service")
    assert service is not None
    assert field(service, "spec.ports.[].targetPort").kind == "int-or-string"


def test_quantities_times_and_free_form_fields() -> None:
    container = field(pod(), "spec.containers.[]")
    limits = field(container, "resources.limits")
    assert limits.kind == "map"
    assert limits.values is not None and limits.values.type_name == QUANTITY
    assert field(container, "env.[].valueFrom.resourceFieldRef.divisor").type_name == QUANTITY
    created = field(pod(), "metadata.creationTimestamp")
    assert (created.kind, created.type_name, created.format) == ("string", TIME, "date-time")
    fields_v1 = field(pod(), "metadata.managedFields.[].fieldsV1")
    assert (fields_v1.kind, fields_v1.type_name) == ("any", FIELDS_V1)
    event = schema_for("", "v1", "Event")
    assert event is not None
    assert field(event, "eventTime").type_name == MICRO_TIME
    assert field(event, "lastTimestamp").type_name == TIME


def test_secret_data_is_base64_and_int64_fields_say_so() -> None:
    secret = schema_for("", "v1", "Secret")
    assert secret is not None
    assert field(secret, "data.{}").format == "byte"
    assert field(secret, "stringData.{}").format == ""
    assert field(pod(), "metadata.generation").format == "int64"
    assert field(pod(), "spec.securityContext.supplementalGroups.[]").format == "int64"
    assert field(pod(), "spec.containers.[].ports.[].containerPort").format == "int32"


def test_required_fields() -> None:
    assert set(field(deployment(), "spec").required) == {"selector", "template"}
    assert field(pod(), "spec.containers.[]").required == ("name",)
    assert "containerPort" in field(pod(), "spec.containers.[].ports.[]").required
    assert field(pod(), "metadata").required == ()


@pytest.mark.parametrize(
    ("path", "strategy", "merge_key", "list_type", "map_keys"),
    [
        ("spec.containers", "merge", "name", "map", ("name",)),
        ("spec.initContainers", "merge", "name", "map", ("name",)),
        ("spec.ephemeralContainers", "merge", "name", "map", ("name",)),
        ("spec.volumes", "merge,retainKeys", "name", "map", ("name",)),
        ("spec.imagePullSecrets", "merge", "name", "map", ("name",)),
        ("spec.hostAliases", "merge", "ip", "map", ("ip",)),
        ("spec.topologySpreadConstraints", "merge", "topologyKey", "map", ("topologyKey", "whenUnsatisfiable")),
        ("spec.containers.[].env", "merge", "name", "map", ("name",)),
        ("spec.containers.[].ports", "merge", "containerPort", "map", ("containerPort", "protocol")),
        ("spec.containers.[].volumeMounts", "merge", "mountPath", "map", ("mountPath",)),
        ("spec.ephemeralContainers.[].env", "merge", "name", "map", ("name",)),
        ("spec.containers.[].command", "", "", "atomic", ()),
        ("spec.containers.[].envFrom", "", "", "atomic", ()),
        ("spec.tolerations", "", "", "atomic", ()),
        ("status.conditions", "merge", "type", "map", ("type",)),
        ("status.podIPs", "merge", "ip", "map", ("ip",)),
        ("status.hostIPs", "merge", "ip", "atomic", ()),
        ("status.containerStatuses", "", "", "atomic", ()),
        ("metadata.finalizers", "merge", "", "set", ()),
        ("metadata.ownerReferences", "merge", "uid", "map", ("uid",)),
        ("metadata.managedFields", "", "", "atomic", ()),
    ],
)
def test_pod_patch_metadata(
    path: str, strategy: str, merge_key: str, list_type: str, map_keys: tuple[str, ...]
) -> None:
    node = field(pod(), path)
    assert node.kind == "array"
    assert (node.patch_strategy, node.patch_merge_key, node.list_type, node.list_map_keys) == (
        strategy,
        merge_key,
        list_type,
        map_keys,
    )


@pytest.mark.parametrize(
    ("group", "kind", "path", "strategy", "merge_key", "list_type", "map_keys"),
    [
        ("", "Service", "spec.ports", "merge", "port", "map", ("port", "protocol")),
        ("", "Service", "status.conditions", "merge", "type", "map", ("type",)),
        ("", "ServiceAccount", "secrets", "merge", "name", "map", ("name",)),
        ("", "ServiceAccount", "imagePullSecrets", "", "", "atomic", ()),
        ("", "Namespace", "spec.finalizers", "", "", "atomic", ()),
        ("", "Namespace", "status.conditions", "merge", "type", "map", ("type",)),
        ("apps", "Deployment", "status.conditions", "merge", "type", "map", ("type",)),
        ("apps", "ReplicaSet", "status.conditions", "merge", "type", "map", ("type",)),
        ("apps", "Deployment", "spec.template.spec.containers", "merge", "name", "map", ("name",)),
        ("apps", "ReplicaSet", "spec.template.metadata.finalizers", "merge", "", "set", ()),
    ],
)
def test_patch_metadata_of_other_kinds(
    group: str, kind: str, path: str, strategy: str, merge_key: str, list_type: str, map_keys: tuple[str, ...]
) -> None:
    root = schema_for(group, "v1", kind)
    assert root is not None
    node = field(root, path)
    assert (node.patch_strategy, node.patch_merge_key, node.list_type, node.list_map_keys) == (
        strategy,
        merge_key,
        list_type,
        map_keys,
    )


def test_patch_metadata_belongs_to_the_field_not_the_shared_type() -> None:
    strategy_field = field(deployment(), "spec.strategy")
    assert strategy_field.patch_strategy == "retainKeys"
    shared = definition(strategy_field.type_name)
    assert shared is not None and shared is not strategy_field
    assert shared.patch_strategy == ""
    assert strategy_field.properties is shared.properties  # same fields, parsed once
    assert shared.description.startswith("DeploymentStrategy")


def test_atomic_maps_and_structs() -> None:
    assert field(pod(), "spec.nodeSelector").map_type == "atomic"
    assert field(pod(), "metadata.labels").map_type == ""
    service = schema_for("", "v1", "Service")
    assert service is not None and field(service, "spec.selector").map_type == "atomic"
    assert field(deployment(), "spec.selector").map_type == "atomic"  # LabelSelector is +structType=atomic
    assert field(pod(), "spec.containers.[].env.[].valueFrom.secretKeyRef").map_type == "atomic"
    assert field(pod(), "spec.containers.[].resources").map_type == ""


def test_metadata_fields_get_a_description_the_client_lacks() -> None:
    assert field(deployment(), "metadata").description.startswith("Standard object metadata")
    listing = schema_for("apps", "v1", "DeploymentList")
    assert listing is not None
    assert field(listing, "metadata").type_name == LIST_META
    assert field(listing, "metadata").description.startswith("Standard list metadata")
    assert field(listing, "items.[]").type_name == "io.k8s.api.apps.v1.Deployment"


def test_recursive_types_resolve_lazily() -> None:
    crd = schema_for("apiextensions.k8s.io", "v1", "CustomResourceDefinition")
    assert crd is not None
    props = field(crd, "spec.versions.[].schema.openAPIV3Schema")
    deeper = field(props, "properties.{}.properties.{}.items")
    assert field(props, "properties.{}").type_name == props.type_name
    assert deeper.kind == "any"


def test_permissive_schema_keeps_unknown_fields_but_types_metadata() -> None:
    node = permissive_schema("canopy.dev", "v1alpha1", "Workspace")
    assert node.preserve_unknown and node.kind == "object"
    assert node.type_name == "dev.canopy.v1alpha1.Workspace"
    assert field(node, "metadata.name").kind == "string"
    assert resolve_schema("canopy.dev", "v1alpha1", "Workspace").preserve_unknown
    assert resolve_schema("apps", "v1", "Deployment") is deployment()


def test_list_schema_of_an_unknown_kind_wraps_the_permissive_item() -> None:
    listing = resolve_list_schema("canopy.dev", "v1alpha1", "Workspace")
    assert listing.type_name == "dev.canopy.v1alpha1.WorkspaceList"
    assert listing.required == ("items",)
    assert field(listing, "items.[]").preserve_unknown
    assert field(listing, "metadata").type_name == LIST_META
    assert resolve_list_schema("apps", "v1", "Deployment") is schema_for("apps", "v1", "DeploymentList")


class V1Gadget:
    """NOTE: This class is auto generated by OpenAPI Generator.
    Ref: https://openapi-generator.tech

    Do not edit the class manually.
    """

    openapi_types = {"size": "int", "parts": "list[V1Gadget]", "labels": "dict(str, str)"}
    attribute_map = {"size": "size", "parts": "parts", "labels": "labels"}

    @property
    def size(self) -> int:
        """Gets the size of this V1Gadget.  # noqa: E501

        How big the gadget is.  # noqa: E501
        Measured in widgets.  # noqa: E501

        :return: The size of this V1Gadget.  # noqa: E501
        :rtype: int
        """
        return 0

    @size.setter
    def size(self, size: int) -> None:
        if size is None:
            raise ValueError("Invalid value for `size`, must not be `None`")


def test_older_clients_without_pydantic_models_still_load(monkeypatch: pytest.MonkeyPatch) -> None:
    models = SimpleNamespace(**vars(schema_module.models), V1Gadget=V1Gadget)
    monkeypatch.setattr(schema_module, "models", models)
    gadget = schema_for("gadgets.example.com", "v1", "Gadget")
    assert gadget is not None
    assert gadget.type_name == "com.example.gadgets.v1.Gadget"
    assert gadget.description == ""
    assert gadget.required == ("size",)
    assert field(gadget, "size").description == "How big the gadget is. Measured in widgets."
    assert field(gadget, "parts.[]").type_name == gadget.type_name
    assert field(gadget, "labels.{}").kind == "string"
