"""The patch engines against the outcomes kube-apiserver gives for the same object and patch body.

The strategic merge patch cases use a hand-built Deployment-like schema with the patch metadata the real types
carry (containers merged by name, ports by containerPort, volumes "merge,retainKeys", finalizers a merged set,
args atomic), and the patch bodies the kubectl commands send.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from api.schema import Schema, schema_for
from controlplane.errors import StatusError
from controlplane.patch import (
    MAX_JSON_PATCH_OPERATIONS,
    apply_json_patch,
    apply_merge_patch,
    apply_strategic_merge_patch,
)
from controlplane.patch.failures import REJECTED, go_value

STRING = Schema("string")
INTEGER = Schema("integer")
INT_OR_STRING = Schema("int-or-string")


def obj(*, patch_strategy_: str = "", **properties: Schema) -> Schema:
    return Schema("object", patch_strategy=patch_strategy_, properties_factory=lambda: properties)


def array(items: Schema, strategy: str = "", key: str = "") -> Schema:
    return Schema("array", patch_strategy=strategy, patch_merge_key=key, items_factory=lambda: items)


def mapping(values: Schema) -> Schema:
    return Schema("map", values_factory=lambda: values)


METADATA = obj(
    name=STRING,
    namespace=STRING,
    labels=mapping(STRING),
    annotations=mapping(STRING),
    finalizers=array(STRING, "merge"),
    ownerReferences=array(obj(uid=STRING, name=STRING, kind=STRING), "merge", "uid"),
)
CONTAINER = obj(
    name=STRING,
    image=STRING,
    args=array(STRING),
    env=array(obj(name=STRING, value=STRING, valueFrom=obj(fieldRef=obj(fieldPath=STRING))), "merge", "name"),
    ports=array(obj(containerPort=INTEGER, protocol=STRING, name=STRING), "merge", "containerPort"),
    resources=obj(limits=mapping(STRING), requests=mapping(STRING)),
    securityContext=obj(runAsUser=INTEGER, privileged=Schema("boolean")),
)
VOLUME = obj(
    name=STRING,
    configMap=obj(name=STRING),
    secret=obj(secretName=STRING),
    emptyDir=obj(medium=STRING),
)
POD_SPEC = obj(
    containers=array(CONTAINER, "merge", "name"),
    volumes=array(VOLUME, "merge,retainKeys", "name"),
    tolerations=array(obj(key=STRING, operator=STRING)),
    nodeSelector=mapping(STRING),
    affinity=obj(patch_strategy_="replace", nodeAffinity=obj(required=STRING)),
)
DEPLOYMENT = obj(
    apiVersion=STRING,
    kind=STRING,
    metadata=METADATA,
    spec=obj(
        replicas=INTEGER,
        selector=obj(matchLabels=mapping(STRING)),
        template=obj(metadata=METADATA, spec=POD_SPEC),
        strategy=obj(
            patch_strategy_="retainKeys",
            type=STRING,
            rollingUpdate=obj(maxSurge=INT_OR_STRING, maxUnavailable=INT_OR_STRING),
        ),
        extra=Schema("any"),
    ),
)


def deployment() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "labels": {"app": "web", "tier": "front"},
            "finalizers": ["a.example/one", "b.example/two", "c.example/three"],
        },
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "nginx",
                            "image": "nginx:1.25",
                            "args": ["-g", "daemon off;"],
                            "env": [
                                {"name": "A", "value": "1"},
                                {"name": "B", "value": "2"},
                                {"name": "C", "value": "3"},
                            ],
                            "ports": [{"containerPort": 80, "protocol": "TCP"}],
                        },
                        {"name": "sidecar", "image": "busybox:1.36"},
                    ],
                    "volumes": [{"name": "conf", "configMap": {"name": "web-conf"}}],
                },
            },
        },
    }


def smp(patch: Any, live: dict[str, Any] | None = None) -> dict[str, Any]:
    return apply_strategic_merge_patch(deployment() if live is None else live, patch, DEPLOYMENT)


def pod_spec(result: dict[str, Any]) -> dict[str, Any]:
    return result["spec"]["template"]["spec"]


def names(items: list[dict[str, Any]], key: str = "name") -> list[Any]:
    return [item[key] for item in items]


def failure(call: Any, *args: Any) -> StatusError:
    with pytest.raises(StatusError) as caught:
        call(*args)
    return caught.value


# JSON patch


def test_json_patch_applies_operations_in_order_without_touching_the_input() -> None:
    live = deployment()
    before = copy.deepcopy(live)
    result = apply_json_patch(
        live,
        [
            {"op": "test", "path": "/spec/replicas", "value": 2},
            {"op": "replace", "path": "/spec/replicas", "value": 5},
            {"op": "add", "path": "/metadata/labels/env", "value": "prod"},
            {"op": "remove", "path": "/metadata/labels/tier"},
            {"op": "add", "path": "/spec/template/spec/containers/-", "value": {"name": "log", "image": "fluent"}},
            {"op": "copy", "from": "/spec/replicas", "path": "/metadata/annotations"},
            {"op": "move", "from": "/metadata/annotations", "path": "/spec/minReadySeconds"},
        ],
    )
    assert result["spec"]["replicas"] == 5
    assert result["spec"]["minReadySeconds"] == 5
    assert result["metadata"]["labels"] == {"app": "web", "env": "prod"}
    assert "annotations" not in result["metadata"]
    assert names(pod_spec(result)["containers"]) == ["nginx", "sidecar", "log"]
    assert live == before


def test_json_patch_failed_test_is_a_422_with_the_failure_as_its_cause() -> None:
    error = failure(apply_json_patch, deployment(), [{"op": "test", "path": "/spec/replicas", "value": 3}])
    assert (error.code, error.reason, error.message) == (422, "Invalid", REJECTED)
    assert error.details["causes"] == [
        {"reason": "UnexpectedServerResponse", "message": "testing value /spec/replicas failed: test failed"}
    ]


@pytest.mark.parametrize(
    ("operation", "message"),
    [
        (
            {"op": "remove", "path": "/spec/paused"},
            'remove operation does not apply: doc is missing path: "/spec/paused": missing value',
        ),
        (
            {"op": "replace", "path": "/status/replicas", "value": 1},
            'replace operation does not apply: doc is missing path: "/status/replicas": missing value',
        ),
        (
            {"op": "add", "path": "/status/replicas", "value": 1},
            'add operation does not apply: doc is missing path: "/status/replicas": missing value',
        ),
        (
            {"op": "copy", "from": "/spec/paused", "path": "/spec/x"},
            'copy operation does not apply: doc is missing from path: "/spec/paused": missing value',
        ),
        ({"op": "frobnicate", "path": "/spec"}, "Unknown operation 'frobnicate'"),
        ({"path": "/spec"}, "Operation does not contain 'op' member"),
    ],
)
def test_json_patch_operation_that_cannot_apply_is_a_422(operation: dict[str, Any], message: str) -> None:
    error = failure(apply_json_patch, deployment(), [operation])
    assert error.code == 422
    assert error.details["causes"][0]["message"] == message


@pytest.mark.parametrize("body", [{"op": "add"}, "add", [["op"]], [1]])
def test_json_patch_body_that_is_not_an_array_of_objects_is_a_400(body: Any) -> None:
    error = failure(apply_json_patch, deployment(), body)
    assert (error.code, error.reason) == (400, "BadRequest")
    assert error.message.startswith("json: cannot unmarshal ")


def test_json_patch_with_too_many_operations_is_a_413() -> None:
    body = [{"op": "test", "path": "/kind", "value": "Deployment"}] * (MAX_JSON_PATCH_OPERATIONS + 1)
    error = failure(apply_json_patch, deployment(), body)
    assert error.code == 413
    assert error.message == "The allowed maximum operations in a JSON patch is 10000, got 10001"


def test_json_patch_that_leaves_no_object_is_invalid() -> None:
    error = failure(apply_json_patch, deployment(), [{"op": "replace", "path": "", "value": [1]}])
    assert (error.code, error.reason) == (422, "Invalid")
    assert error.details["causes"][0]["field"] == "patch"


def test_json_patch_null_body_changes_nothing() -> None:
    assert apply_json_patch(deployment(), None) == deployment()


# JSON merge patch


def test_merge_patch_merges_objects_deletes_nulls_and_replaces_everything_else() -> None:
    live = deployment()
    before = copy.deepcopy(live)
    result = apply_merge_patch(
        live,
        {
            "metadata": {"labels": {"tier": None, "env": "prod"}, "finalizers": ["z"]},
            "spec": {
                "replicas": None,
                "template": {"spec": {"containers": [{"name": "only"}]}},
                "paused": {"nested": {"gone": None, "kept": 1}},
            },
        },
    )
    assert result["metadata"]["labels"] == {"app": "web", "env": "prod"}
    assert result["metadata"]["finalizers"] == ["z"]
    assert "replicas" not in result["spec"]
    assert pod_spec(result)["containers"] == [{"name": "only"}]
    assert result["spec"]["paused"] == {"nested": {"kept": 1}}
    assert result["spec"]["strategy"] == live["spec"]["strategy"]
    assert live == before


def test_merge_patch_object_replaces_a_scalar_and_keeps_nulls_inside_arrays() -> None:
    result = apply_merge_patch({"a": 1, "b": {"c": 1}}, {"a": {"x": 1, "y": None}, "b": [None, {"d": None}]})
    assert result == {"a": {"x": 1}, "b": [None, {"d": None}]}


def test_kubectl_scale_merge_patch_on_the_scale_subresource() -> None:
    scale = {"kind": "Scale", "apiVersion": "autoscaling/v1", "spec": {"replicas": 2}, "status": {"replicas": 2}}
    assert apply_merge_patch(scale, {"spec": {"replicas": 7}})["spec"] == {"replicas": 7}


@pytest.mark.parametrize("body", [[], "x", 3, None])
def test_merge_patch_body_must_be_an_object(body: Any) -> None:
    error = failure(apply_merge_patch, deployment(), body)
    assert error.code == 400
    assert "cannot unmarshal" in error.message


# Strategic merge patch: content type and body


def test_strategic_merge_patch_without_schema_is_415_like_custom_resources() -> None:
    error = failure(apply_strategic_merge_patch, {"spec": {}}, {"spec": {"a": 1}}, None)
    assert (error.code, error.reason) == (415, "UnsupportedMediaType")
    assert error.message == (
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
    )


def test_strategic_merge_patch_body_must_be_an_object() -> None:
    error = failure(smp, [{"op": "add"}])
    assert (error.code, error.message) == (
        400,
        "json: cannot unmarshal array into Go value of type map[string]interface {}",
    )


def test_strategic_merge_patch_does_not_touch_its_inputs() -> None:
    live = deployment()
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.26"}]}}}}
    before_live, before_patch = copy.deepcopy(live), copy.deepcopy(patch)
    smp(patch, live)
    assert (live, patch) == (before_live, before_patch)


# Strategic merge patch: maps


def test_kubectl_label_and_annotate_merge_into_metadata() -> None:
    result = smp({"metadata": {"labels": {"tier": None, "env": "prod"}, "annotations": {"note": "hi"}}})
    assert result["metadata"]["labels"] == {"app": "web", "env": "prod"}
    assert result["metadata"]["annotations"] == {"note": "hi"}
    assert result["metadata"]["name"] == "web"


def test_kubectl_rollout_restart_adds_the_template_annotation() -> None:
    stamp = "2024-05-01T10:00:00Z"
    result = smp({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": stamp}}}}})
    template = result["spec"]["template"]
    assert template["metadata"] == {
        "labels": {"app": "web"},
        "annotations": {"kubectl.kubernetes.io/restartedAt": stamp},
    }
    assert template["spec"] == deployment()["spec"]["template"]["spec"]


def test_patch_map_directive_replace_and_delete() -> None:
    result = smp({"metadata": {"labels": {"$patch": "replace", "only": "this"}}})
    assert result["metadata"]["labels"] == {"only": "this"}
    result = smp({"spec": {"strategy": {"$patch": "delete"}}})
    assert result["spec"]["strategy"] == {}


def test_unknown_patch_directive_is_a_plain_server_error() -> None:
    error = failure(smp, {"metadata": {"labels": {"$patch": "frob"}}})
    assert (error.code, error.reason) == (500, "")
    assert error.message == "unknown patch type: frob in map: map[$patch:frob]"


def test_object_field_with_replace_strategy_is_replaced() -> None:
    live = deployment()
    pod_spec(live)["affinity"] = {"nodeAffinity": {"required": "x"}, "podAffinity": {"a": 1}}
    result = smp({"spec": {"template": {"spec": {"affinity": {"nodeAffinity": {"required": "y"}}}}}}, live)
    assert pod_spec(result)["affinity"] == {"nodeAffinity": {"required": "y"}}


def test_fields_the_schema_does_not_know_merge_like_a_json_merge_patch() -> None:
    live = deployment()
    live["spec"]["extra"] = {"keep": 1, "drop": 2, "list": [1, 2], "deep": {"a": 1}}
    live["spec"]["unknown"] = {"x": [1], "y": 1}
    result = smp(
        {
            "spec": {
                "extra": {"drop": None, "list": [3], "deep": {"b": 2}},
                "unknown": {"x": [2], "z": {"n": None, "v": 1}},
            }
        },
        live,
    )
    assert result["spec"]["extra"] == {"keep": 1, "list": [3], "deep": {"a": 1, "b": 2}}
    assert result["spec"]["unknown"] == {"x": [2], "y": 1, "z": {"v": 1}}


def test_new_values_lose_their_nulls_and_directives() -> None:
    result = smp(
        {
            "spec": {
                "template": {
                    "spec": {
                        "nodeSelector": {"disk": "ssd", "gone": None},
                        "tolerations": [{"key": "k", "operator": None}],
                    }
                }
            },
            "status": {"$retainKeys": ["a"], "a": {"$patch": "delete"}, "b": 1},
        }
    )
    assert pod_spec(result)["nodeSelector"] == {"disk": "ssd"}
    assert pod_spec(result)["tolerations"] == [{"key": "k"}]
    assert result["status"] == {"b": 1}


# Strategic merge patch: lists merged by key


def test_kubectl_set_image_merges_the_container_by_name() -> None:
    result = smp({"spec": {"template": {"spec": {"containers": [{"name": "nginx", "image": "nginx:1.26"}]}}}})
    containers = pod_spec(result)["containers"]
    assert names(containers) == ["nginx", "sidecar"]
    expected = deployment()["spec"]["template"]["spec"]["containers"][0] | {"image": "nginx:1.26"}
    assert containers[0] == expected
    assert containers[1] == {"name": "sidecar", "image": "busybox:1.36"}


def test_new_element_goes_first_without_set_element_order() -> None:
    result = smp({"spec": {"template": {"spec": {"containers": [{"name": "log", "image": "fluent"}]}}}})
    assert names(pod_spec(result)["containers"]) == ["log", "nginx", "sidecar"]


def test_set_element_order_places_new_and_existing_elements() -> None:
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "sidecar"}, {"name": "nginx"}, {"name": "log"}],
                    "containers": [{"name": "log", "image": "fluent"}],
                }
            }
        }
    }
    result = smp(patch)
    assert names(pod_spec(result)["containers"]) == ["sidecar", "nginx", "log"]
    assert not [key for key in pod_spec(result) if key.startswith("$")]


def test_delete_directive_removes_the_element_with_that_key() -> None:
    result = smp({"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}}}})
    assert names(pod_spec(result)["containers"]) == ["nginx"]


def test_replace_directive_makes_the_list_exactly_the_other_elements() -> None:
    patch = {"spec": {"template": {"spec": {"containers": [{"$patch": "replace"}, {"name": "solo", "image": "x"}]}}}}
    assert pod_spec(smp(patch))["containers"] == [{"name": "solo", "image": "x"}]


def test_nested_lists_merge_by_their_own_keys() -> None:
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "nginx",
                            "env": [{"name": "B", "value": "two"}],
                            "ports": [{"containerPort": 80, "name": "http"}, {"containerPort": 443}],
                            "resources": {"limits": {"cpu": "1"}},
                        }
                    ]
                }
            }
        }
    }
    nginx = pod_spec(smp(patch))["containers"][0]
    assert nginx["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "two"}, {"name": "C", "value": "3"}]
    assert nginx["ports"] == [{"containerPort": 80, "protocol": "TCP", "name": "http"}, {"containerPort": 443}]
    assert nginx["resources"] == {"limits": {"cpu": "1"}}


def test_element_without_its_merge_key_is_a_server_error_in_go_words() -> None:
    error = failure(smp, {"spec": {"template": {"spec": {"containers": [{"image": "nginx"}]}}}})
    assert (error.code, error.message) == (500, "map: map[image:nginx] does not contain declared merge key: name")


def test_merge_directive_in_a_list_is_refused() -> None:
    error = failure(smp, {"spec": {"template": {"spec": {"containers": [{"$patch": "merge"}]}}}})
    assert (error.code, error.message) == (500, "merging lists cannot yet be specified in the patch")


def test_lists_of_lists_are_a_422() -> None:
    live = deployment()
    live["metadata"]["finalizers"] = [["a"]]
    error = failure(smp, {"metadata": {"finalizers": [["b"]]}}, live)
    assert error.code == 422
    assert error.details["causes"][0]["message"] == "lists of lists are not supported"


def test_mixed_element_types_are_a_server_error() -> None:
    error = failure(smp, {"metadata": {"finalizers": [{"a": 1}]}})
    assert error.code == 500
    assert error.message.startswith("list element types are not identical")


def test_apply_that_removes_and_adds_keeps_server_only_elements_ahead_of_the_added_ones() -> None:
    live = deployment()
    live["spec"]["template"]["spec"]["containers"][0]["env"] = [
        {"name": "OLD", "value": "o"},
        {"name": "KEEP", "value": "k"},
        {"name": "INJECTED", "value": "i"},
    ]
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "nginx",
                            "$setElementOrder/env": [{"name": "KEEP"}, {"name": "NEW"}],
                            "env": [{"name": "NEW", "value": "n"}, {"name": "OLD", "$patch": "delete"}],
                        }
                    ]
                }
            }
        }
    }
    env = pod_spec(smp(patch, live))["containers"][0]["env"]
    assert names(env) == ["KEEP", "INJECTED", "NEW"]


def test_set_element_order_keeps_server_only_elements_next_to_their_live_neighbours() -> None:
    live = deployment()
    live["metadata"]["finalizers"] = ["one", "two", "server", "three", "four"]
    patch = {"metadata": {"$setElementOrder/finalizers": ["two", "one", "four", "three"]}}
    assert smp(patch, live)["metadata"]["finalizers"] == ["two", "one", "server", "four", "three"]


# Strategic merge patch: primitive and atomic lists


def test_primitive_merge_list_is_a_set_union() -> None:
    result = smp({"metadata": {"finalizers": ["b.example/two", "d.example/four"]}})
    assert result["metadata"]["finalizers"] == [
        "a.example/one",
        "b.example/two",
        "d.example/four",
        "c.example/three",
    ]


def test_delete_from_primitive_list() -> None:
    result = smp({"metadata": {"$deleteFromPrimitiveList/finalizers": ["b.example/two", "absent"]}})
    assert result["metadata"]["finalizers"] == ["a.example/one", "c.example/three"]


def test_kubectl_apply_shape_for_a_primitive_list() -> None:
    patch = {
        "metadata": {
            "$setElementOrder/finalizers": ["c.example/three", "a.example/one", "e.example/five"],
            "$deleteFromPrimitiveList/finalizers": ["b.example/two"],
            "finalizers": ["e.example/five"],
        }
    }
    assert smp(patch)["metadata"]["finalizers"] == ["c.example/three", "a.example/one", "e.example/five"]


def test_list_without_merge_strategy_is_replaced_whole() -> None:
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "nginx", "args": ["-v"]}]}}}}
    assert pod_spec(smp(patch))["containers"][0]["args"] == ["-v"]


def test_malformed_list_directive_keys_are_a_400() -> None:
    assert failure(smp, {"metadata": {"$setElementOrderfinalizers": []}}).code == 400
    error = failure(smp, {"metadata": {"$deleteFromPrimitiveListfinalizers": ["a"]}})
    assert (error.code, error.message) == (400, "invalid patch format of primitive list")


def test_patch_list_out_of_set_element_order_is_refused() -> None:
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "nginx"}],
                    "containers": [{"name": "other", "image": "x"}],
                }
            }
        }
    }
    error = failure(smp, patch)
    assert error.code == 500
    assert "doesn't match $setElementOrder list" in error.message


# Strategic merge patch: $retainKeys


def test_retain_keys_clears_the_other_members_of_a_union() -> None:
    patch = {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": None}}}
    assert smp(patch)["spec"]["strategy"] == {"type": "Recreate"}


def test_retain_keys_on_a_merged_list_element_switches_the_volume_source() -> None:
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/volumes": [{"name": "conf"}],
                    "volumes": [{"$retainKeys": ["name", "secret"], "name": "conf", "secret": {"secretName": "s"}}],
                }
            }
        }
    }
    assert pod_spec(smp(patch))["volumes"] == [{"name": "conf", "secret": {"secretName": "s"}}]


@pytest.mark.parametrize(
    "strategy",
    [{"$retainKeys": "type", "type": "Recreate"}, {"$retainKeys": ["type"], "rollingUpdate": {"maxSurge": 1}}],
)
def test_malformed_or_contradicted_retain_keys_is_a_400(strategy: dict[str, Any]) -> None:
    error = failure(smp, {"spec": {"strategy": strategy}})
    assert (error.code, error.message) == (400, "invalid patch format of retainKeys")


# Strategic merge patch: whole kubectl flows


def test_kubectl_apply_three_way_patch() -> None:
    last_applied = '{"apiVersion":"apps/v1","kind":"Deployment"}'
    patch = {
        "metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": last_applied}},
        "spec": {
            "replicas": 3,
            "strategy": {"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": None},
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "nginx"}, {"name": "sidecar"}],
                    "containers": [
                        {
                            "$setElementOrder/env": [{"name": "A"}, {"name": "D"}, {"name": "C"}],
                            "env": [{"name": "D", "value": "4"}, {"$patch": "delete", "name": "B"}],
                            "image": "nginx:1.26",
                            "name": "nginx",
                        }
                    ],
                }
            },
        },
    }
    result = smp(patch)
    assert result["metadata"]["annotations"] == {"kubectl.kubernetes.io/last-applied-configuration": last_applied}
    assert result["spec"]["replicas"] == 3
    assert result["spec"]["strategy"] == {"type": "Recreate"}
    nginx, sidecar = pod_spec(result)["containers"]
    assert nginx == {
        "name": "nginx",
        "image": "nginx:1.26",
        "args": ["-g", "daemon off;"],
        "env": [{"name": "A", "value": "1"}, {"name": "D", "value": "4"}, {"name": "C", "value": "3"}],
        "ports": [{"containerPort": 80, "protocol": "TCP"}],
    }
    assert sidecar == {"name": "sidecar", "image": "busybox:1.36"}


def test_kubectl_edit_removing_a_container_and_reordering() -> None:
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "sidecar"}],
                    "containers": [{"$patch": "delete", "name": "nginx"}],
                }
            }
        }
    }
    assert pod_spec(smp(patch))["containers"] == [{"name": "sidecar", "image": "busybox:1.36"}]


def test_go_value_renders_like_go() -> None:
    assert go_value({"b": [1, 2.5, True], "a": None}) == "map[a:<nil> b:[1 2.5 true]]"


def test_against_the_real_deployment_schema() -> None:
    real = schema_for("apps", "v1", "Deployment")
    assert real is not None
    live = deployment()
    patch = {
        "metadata": {"$deleteFromPrimitiveList/finalizers": ["b.example/two"], "labels": {"tier": None}},
        "spec": {
            "strategy": {"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": None},
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "sidecar"}, {"name": "nginx"}],
                    "$setElementOrder/volumes": [{"name": "conf"}],
                    "containers": [
                        {
                            "name": "nginx",
                            "args": ["-q"],
                            "ports": [{"containerPort": 8080}],
                            "env": [{"name": "A", "$patch": "delete"}],
                        }
                    ],
                    "volumes": [{"$retainKeys": ["emptyDir", "name"], "name": "conf", "emptyDir": {}}],
                }
            },
        },
    }
    result = apply_strategic_merge_patch(live, patch, real)
    assert result["metadata"]["finalizers"] == ["a.example/one", "c.example/three"]
    assert result["metadata"]["labels"] == {"app": "web"}
    assert result["spec"]["strategy"] == {"type": "Recreate"}
    sidecar, nginx = pod_spec(result)["containers"]
    assert sidecar["name"] == "sidecar"
    assert nginx["args"] == ["-q"]
    assert nginx["ports"] == [{"containerPort": 8080}, {"containerPort": 80, "protocol": "TCP"}]
    assert names(nginx["env"]) == ["B", "C"]
    assert pod_spec(result)["volumes"] == [{"name": "conf", "emptyDir": {}}]
