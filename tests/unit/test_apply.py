"""Server-side apply and managed fields against what kube-apiserver stores and answers for the same writes."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from api.schema import Schema, schema_for
from controlplane.apply import (
    from_fields_v1,
    path_string,
    server_side_apply,
    to_fields_v1,
    track_update,
)
from controlplane.errors import StatusError

STRING = Schema("string")
INTEGER = Schema("integer")


def obj(**properties: Schema) -> Schema:
    return Schema("object", properties_factory=lambda: properties)


def keyed(items: Schema, *keys: str) -> Schema:
    return Schema("array", list_type="map", list_map_keys=keys, items_factory=lambda: items)


def set_of(items: Schema) -> Schema:
    return Schema("array", list_type="set", items_factory=lambda: items)


def atomic(items: Schema) -> Schema:
    return Schema("array", list_type="atomic", items_factory=lambda: items)


STRINGS = Schema("map", values_factory=lambda: STRING)
CONTAINER = obj(
    name=STRING,
    image=STRING,
    imagePullPolicy=STRING,
    args=atomic(STRING),
    ports=keyed(obj(containerPort=INTEGER, protocol=STRING, name=STRING), "containerPort", "protocol"),
)
DEPLOYMENT = obj(
    apiVersion=STRING,
    kind=STRING,
    metadata=obj(
        name=STRING,
        namespace=STRING,
        resourceVersion=STRING,
        labels=STRINGS,
        annotations=STRINGS,
        finalizers=set_of(STRING),
        managedFields=atomic(obj(manager=STRING)),
    ),
    spec=obj(
        replicas=INTEGER,
        paused=Schema("boolean"),
        selector=Schema("object", map_type="atomic", properties_factory=lambda: {"matchLabels": STRINGS}),
        template=obj(spec=obj(containers=keyed(CONTAINER, "name"))),
    ),
    status=obj(replicas=INTEGER),
)

T0, T1, T2 = "2024-05-01T10:00:00Z", "2024-05-01T10:01:00Z", "2024-05-01T10:02:00Z"


def config(replicas: int = 2, image: str = "nginx:1.25", **extra_spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "spec": {
                    "containers": [
                        {"name": "nginx", "image": image, "ports": [{"containerPort": 80, "protocol": "TCP"}]}
                    ]
                }
            },
            **extra_spec,
        },
    }


def apply(live: dict[str, Any] | None, applied: dict[str, Any], manager: str = "kubectl", **kw: Any) -> dict[str, Any]:
    options: dict[str, Any] = {"force": False, "now": T0} | kw
    return server_side_apply(live, applied, manager, options.pop("force"), DEPLOYMENT, options.pop("now"), **options)


def entries(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["manager"] + "/" + entry["operation"]: entry for entry in result["metadata"]["managedFields"]}


def containers(result: dict[str, Any]) -> list[dict[str, Any]]:
    return result["spec"]["template"]["spec"]["containers"]


def scaled(live: dict[str, Any], replicas: int, manager: str = "kube-controller-manager") -> dict[str, Any]:
    new = copy.deepcopy(live)
    new["spec"]["replicas"] = replicas
    return track_update(live, new, manager, schema=DEPLOYMENT, now=T1)


# FieldsV1


def test_fields_v1_marks_owned_paths_that_have_owned_children() -> None:
    paths = {
        ("f:spec", "f:replicas"),
        ("f:spec", "f:containers", 'k:{"name":"a"}'),
        ("f:spec", "f:containers", 'k:{"name":"a"}', "f:image"),
        ("f:metadata", "f:finalizers", 'v:"x"'),
    }
    tree = to_fields_v1(paths)
    assert tree == {
        "f:metadata": {"f:finalizers": {'v:"x"': {}}},
        "f:spec": {
            "f:containers": {'k:{"name":"a"}': {".": {}, "f:image": {}}},
            "f:replicas": {},
        },
    }
    assert list(tree["f:spec"]["f:containers"]['k:{"name":"a"}']) == [".", "f:image"]
    assert from_fields_v1(tree) == paths


def test_path_string_is_printed_like_kube_apiserver() -> None:
    path = (
        "f:spec",
        "f:containers",
        'k:{"name":"nginx"}',
        "f:ports",
        'k:{"containerPort":80,"protocol":"TCP"}',
        "f:name",
    )
    assert path_string(path) == '.spec.containers[name="nginx"].ports[containerPort=80,protocol="TCP"].name'
    assert path_string(("f:metadata", "f:finalizers", 'v:"a"')) == '.metadata.finalizers[="a"]'


# Apply


def test_apply_creates_the_object_and_owns_exactly_what_it_sent() -> None:
    applied = config()
    applied["metadata"]["finalizers"] = ["example.com/guard"]
    applied["status"] = {"replicas": 9}
    result = apply(None, applied)
    expected = copy.deepcopy(applied)
    del expected["status"]
    managed = result["metadata"].pop("managedFields")
    assert result == expected
    assert managed == [
        {
            "manager": "kubectl",
            "operation": "Apply",
            "apiVersion": "apps/v1",
            "time": T0,
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:metadata": {"f:finalizers": {'v:"example.com/guard"': {}}, "f:labels": {"f:app": {}}},
                "f:spec": {
                    "f:replicas": {},
                    "f:selector": {},
                    "f:template": {
                        "f:spec": {
                            "f:containers": {
                                'k:{"name":"nginx"}': {
                                    ".": {},
                                    "f:image": {},
                                    "f:name": {},
                                    "f:ports": {
                                        'k:{"containerPort":80,"protocol":"TCP"}': {
                                            ".": {},
                                            "f:containerPort": {},
                                            "f:protocol": {},
                                        }
                                    },
                                }
                            }
                        }
                    },
                },
            },
        }
    ]


def test_apply_does_not_touch_its_inputs() -> None:
    live = apply(None, config())
    applied = config(replicas=4)
    applied["metadata"]["managedFields"] = [{"manager": "sneaky"}]
    before_live, before_applied = copy.deepcopy(live), copy.deepcopy(applied)
    apply(live, applied)
    assert (live, applied) == (before_live, before_applied)


def test_changing_a_field_another_manager_owns_is_a_409_conflict() -> None:
    live = scaled(apply(None, config()), 5)
    with pytest.raises(StatusError) as caught:
        apply(live, config(replicas=3), now=T2)
    error = caught.value
    assert (error.code, error.reason) == (409, "Conflict")
    assert error.message == (
        'Apply failed with 1 conflict: conflict with "kube-controller-manager" using apps/v1: .spec.replicas'
    )
    assert error.details == {
        "causes": [
            {
                "reason": "FieldManagerConflict",
                "message": 'conflict with "kube-controller-manager" using apps/v1',
                "field": ".spec.replicas",
            }
        ]
    }


def test_several_conflicts_are_listed_per_manager() -> None:
    live = apply(None, config())
    other = apply(live, config(image="nginx:1.26"), manager="helm", force=True, now=T1)
    with pytest.raises(StatusError) as caught:
        apply(scaled(other, 7), config(replicas=3, image="nginx:1.27"), now=T2)
    assert caught.value.message == (
        "Apply failed with 2 conflicts: "
        'conflicts with "helm":\n'
        '- .spec.template.spec.containers[name="nginx"].image\n'
        'conflicts with "kube-controller-manager" using apps/v1:\n'
        "- .spec.replicas"
    )
    assert [cause["field"] for cause in caught.value.details["causes"]] == [
        '.spec.template.spec.containers[name="nginx"].image',
        ".spec.replicas",
    ]


def test_applying_the_value_another_manager_set_shares_ownership() -> None:
    live = scaled(apply(None, config()), 5)
    result = apply(live, config(replicas=5), now=T2)
    managed = entries(result)
    assert managed["kubectl/Apply"]["fieldsV1"]["f:spec"]["f:replicas"] == {}
    assert managed["kube-controller-manager/Update"]["fieldsV1"] == {"f:spec": {"f:replicas": {}}}


def test_force_takes_the_field_over_and_drops_emptied_managers() -> None:
    live = scaled(apply(None, config()), 5)
    result = apply(live, config(replicas=3), force=True, now=T2)
    assert result["spec"]["replicas"] == 3
    assert list(entries(result)) == ["kubectl/Apply"]


def test_field_dropped_from_the_configuration_is_removed_unless_someone_else_owns_it() -> None:
    live = apply(None, config(paused=True))
    result = apply(live, config(), now=T1)
    assert "paused" not in result["spec"]
    assert "f:paused" not in entries(result)["kubectl/Apply"]["fieldsV1"]["f:spec"]

    shared = apply(live, config(paused=True), manager="other", now=T1)
    kept = apply(shared, config(), now=T2)
    assert kept["spec"]["paused"] is True


def test_element_dropped_from_the_configuration_is_removed_with_what_it_holds() -> None:
    two = config()
    containers(two).append({"name": "sidecar", "image": "busybox", "ports": [{"containerPort": 9, "protocol": "UDP"}]})
    live = apply(None, two)
    result = apply(live, config(), now=T1)
    assert [container["name"] for container in containers(result)] == ["nginx"]

    defaulted = copy.deepcopy(live)
    containers(defaulted)[1]["imagePullPolicy"] = "Always"
    updated = track_update(live, defaulted, "defaulter", schema=DEPLOYMENT, now=T1)
    result = apply(updated, config(), now=T2)
    assert containers(result)[1] == {"name": "sidecar", "imagePullPolicy": "Always"}


def test_emptied_lists_and_maps_are_removed() -> None:
    live = apply(None, config())
    without_ports = config()
    del containers(without_ports)[0]["ports"]
    without_ports["metadata"]["labels"] = {}
    result = apply(live, without_ports, now=T1)
    assert "ports" not in containers(result)[0]
    assert result["metadata"]["labels"] == {}


def test_associative_list_follows_the_configuration_order_and_keeps_live_only_elements() -> None:
    live = config()
    containers(live)[:] = [{"name": "a"}, {"name": "b"}, {"name": "c", "image": "x"}]
    applied = config()
    containers(applied)[:] = [{"name": "b", "image": "b"}, {"name": "a", "image": "a"}]
    result = apply(live, applied)
    assert containers(result) == [{"name": "b", "image": "b"}, {"name": "c", "image": "x"}, {"name": "a", "image": "a"}]


def test_set_members_are_merged_and_removed_individually() -> None:
    first = config()
    first["metadata"]["finalizers"] = ["a", "b"]
    live = apply(None, first)
    live["metadata"]["finalizers"].append("c")
    second = config()
    second["metadata"]["finalizers"] = ["a", "d"]
    assert apply(live, second, now=T1)["metadata"]["finalizers"] == ["a", "c", "d"]


def test_unchanged_reapply_keeps_the_time_and_a_change_updates_it() -> None:
    live = apply(None, config())
    assert entries(apply(live, config(), now=T1))["kubectl/Apply"]["time"] == T0
    assert entries(apply(live, config(replicas=3), now=T1))["kubectl/Apply"]["time"] == T1


def test_status_is_neither_merged_nor_owned_on_the_main_resource_but_is_on_status() -> None:
    live = apply(None, config())
    live["status"] = {"replicas": 1}
    applied = config() | {"status": {"replicas": 5}}
    assert apply(live, applied, now=T1)["status"] == {"replicas": 1}
    result = apply(live, {"status": {"replicas": 5}}, manager="ctrl", subresource="status", reset_fields=("spec",))
    assert result["status"] == {"replicas": 5}
    status_entry = entries(result)["ctrl/Apply"]
    assert (status_entry["subresource"], status_entry["fieldsV1"]) == ("status", {"f:status": {"f:replicas": {}}})


# Updates


def test_create_by_update_owns_everything_it_set() -> None:
    created = track_update(None, config(), "kubectl-create", schema=DEPLOYMENT, now=T0)
    entry = entries(created)["kubectl-create/Update"]
    assert entry["apiVersion"] == "apps/v1"
    assert set(entry["fieldsV1"]["f:spec"]) == {"f:replicas", "f:selector", "f:template"}
    assert "f:name" not in entry["fieldsV1"].get("f:metadata", {})


def test_update_takes_changed_fields_from_the_applier_and_noop_updates_leave_no_trace() -> None:
    live = apply(None, config())
    changed = copy.deepcopy(live)
    containers(changed)[0]["image"] = "nginx:1.26"
    result = track_update(live, changed, "kubectl-set", schema=DEPLOYMENT, now=T1)
    managed = entries(result)
    assert managed["kubectl-set/Update"]["fieldsV1"] == {
        "f:spec": {"f:template": {"f:spec": {"f:containers": {'k:{"name":"nginx"}': {"f:image": {}}}}}}
    }
    nginx = managed["kubectl/Apply"]["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]
    assert "f:image" not in nginx['k:{"name":"nginx"}']
    assert [entry["manager"] for entry in result["metadata"]["managedFields"]] == ["kubectl", "kubectl-set"]

    assert track_update(result, copy.deepcopy(result), "idle", schema=DEPLOYMENT, now=T2) == result


def test_update_removing_a_field_drops_it_from_every_manager() -> None:
    live = apply(None, config(paused=True))
    without = copy.deepcopy(live)
    del without["spec"]["paused"]
    result = track_update(live, without, "editor", schema=DEPLOYMENT, now=T1)
    assert "f:paused" not in entries(result)["kubectl/Apply"]["fieldsV1"]["f:spec"]
    assert "editor/Update" not in entries(result)


def test_update_keeps_managed_fields_the_client_sent() -> None:
    live = apply(None, config())
    new = copy.deepcopy(live)
    new["metadata"]["managedFields"][0]["manager"] = "renamed"
    new["spec"]["replicas"] = 4
    result = track_update(live, new, "editor", schema=DEPLOYMENT, now=T1)
    assert set(entries(result)) == {"renamed/Apply", "editor/Update"}


# The real schema


def test_apply_against_the_real_deployment_schema() -> None:
    real = schema_for("apps", "v1", "Deployment")
    assert real is not None
    result = server_side_apply(None, config(), "kubectl", False, real, T0)
    fields = result["metadata"]["managedFields"][0]["fieldsV1"]
    nginx = fields["f:spec"]["f:template"]["f:spec"]["f:containers"]['k:{"name":"nginx"}']
    assert nginx["f:ports"] == {
        'k:{"containerPort":80,"protocol":"TCP"}': {".": {}, "f:containerPort": {}, "f:protocol": {}}
    }
    assert fields["f:spec"]["f:selector"] == {}
    scaled_result = track_update(
        result, copy.deepcopy(result) | {"spec": result["spec"] | {"replicas": 9}}, "hpa", schema=real, now=T1
    )
    with pytest.raises(StatusError) as caught:
        server_side_apply(scaled_result, config(replicas=1), "kubectl", False, real, T2)
    assert caught.value.details["causes"][0]["field"] == ".spec.replicas"
