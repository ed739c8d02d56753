"""Deployment and ReplicaSet strategies: apps/v1 defaults, validation, generation and the status subresource."""

from __future__ import annotations

import copy
from typing import Any

from controlplane.errors import Cause, invalid
from controlplane.registry import status_strategy_for, strategy_for


def deployment(**spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "nginx", "image": "nginx:1.25"}]},
            },
        },
    }
    body["spec"].update(spec)
    return body


def create(obj: dict[str, Any], group: str = "apps", kind: str = "Deployment") -> tuple[dict[str, Any], list[Cause]]:
    obj = copy.deepcopy(obj)
    strategy = strategy_for(group, kind)
    strategy.prepare_for_create(obj)
    strategy.default(obj)
    return obj, strategy.validate(obj)


def update(
    obj: dict[str, Any], old: dict[str, Any], group: str = "apps", kind: str = "Deployment", *, status: bool = False
) -> tuple[dict[str, Any], list[Cause]]:
    obj = copy.deepcopy(obj)
    strategy = status_strategy_for(group, kind) if status else strategy_for(group, kind)
    strategy.prepare_for_update(obj, old)
    strategy.default(obj)
    return obj, strategy.validate(obj) + strategy.validate_update(obj, old)


def messages(causes: list[Cause]) -> list[str]:
    return [f"{c.field}: {c.message}" for c in causes]


def stored() -> dict[str, Any]:
    obj, causes = create(deployment())
    assert causes == []
    return obj


# ---- defaults ------------------------------------------------------------------------------------------------


def test_defaults() -> None:
    obj = stored()
    spec = obj["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}
    assert spec["revisionHistoryLimit"] == 10
    assert spec["progressDeadlineSeconds"] == 600
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Always"
    assert pod["terminationGracePeriodSeconds"] == 30
    assert pod["dnsPolicy"] == "ClusterFirst"
    assert pod["schedulerName"] == "default-scheduler"
    assert pod["securityContext"] == {}
    container = pod["containers"][0]
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert container["terminationMessagePath"] == "/dev/termination-log"
    assert container["terminationMessagePolicy"] == "File"
    assert container["resources"] == {}
    assert obj["status"] == {}
    assert obj["metadata"]["generation"] == 1


def test_recreate_strategy_gets_no_rolling_update_block() -> None:
    obj, causes = create(deployment(strategy={"type": "Recreate"}))
    assert causes == []
    assert obj["spec"]["strategy"] == {"type": "Recreate"}


def test_template_requests_are_not_defaulted_from_limits() -> None:
    containers = [{"name": "c", "image": "i", "resources": {"limits": {"memory": "1024Mi"}}}]
    obj, _ = create(deployment(template={"metadata": {"labels": {"app": "web"}}, "spec": {"containers": containers}}))
    assert obj["spec"]["template"]["spec"]["containers"][0]["resources"] == {"limits": {"memory": "1Gi"}}


def test_create_clears_client_status_and_generation() -> None:
    body = deployment()
    body["status"] = {"replicas": 5}
    body["metadata"]["generation"] = 7
    obj, _ = create(body)
    assert obj["status"] == {}
    assert obj["metadata"]["generation"] == 1


# ---- validation ----------------------------------------------------------------------------------------------


def test_missing_selector_is_reported_twice() -> None:
    body = deployment()
    del body["spec"]["selector"]
    _, causes = create(body)
    assert messages(causes) == [
        "spec.selector: Required value",
        'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match '
        "template `labels`",
    ]


def test_whole_message_for_a_mismatched_selector() -> None:
    body = deployment(selector={"matchLabels": {"app": "x"}})
    _, causes = create(body)
    assert invalid("Deployment", "web", "apps", causes).message == (
        'Deployment.apps "web" is invalid: spec.template.metadata.labels: Invalid value: '
        'map[string]string{"app":"web"}: `selector` does not match template `labels`'
    )


def test_empty_and_invalid_selectors() -> None:
    _, causes = create(deployment(selector={}))
    assert messages(causes) == [
        "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment"
    ]
    _, causes = create(deployment(selector={"matchExpressions": [{"key": "app", "operator": "Bogus"}]}))
    assert [c.field for c in causes] == ["spec.selector.matchExpressions[0].operator", "spec.selector"]
    assert causes[1].message.endswith(": invalid label selector")


def test_pod_template_rules() -> None:
    template = {
        "metadata": {"labels": {"app": "web", "bad key": "x"}},
        "spec": {
            "restartPolicy": "Never",
            "activeDeadlineSeconds": 5,
            "containers": [
                {"name": "Web", "image": ""},
                {"name": "Web", "image": "i", "ports": [{"containerPort": 0}, {"containerPort": 70000}]},
            ],
        },
    }
    _, causes = create(deployment(template=template))
    assert messages(causes) == [
        'spec.template.labels: Invalid value: "bad key": name part must consist of alphanumeric characters, '
        "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
        "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
        'spec.template.spec.containers[0].name: Invalid value: "Web": a lowercase RFC 1123 label must consist of '
        "lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. "
        "'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
        "spec.template.spec.containers[0].image: Required value",
        'spec.template.spec.containers[1].name: Invalid value: "Web": a lowercase RFC 1123 label must consist of '
        "lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. "
        "'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
        "spec.template.spec.containers[1].ports[0].containerPort: Required value",
        "spec.template.spec.containers[1].ports[1].containerPort: Invalid value: 70000: must be between 1 and 65535, "
        "inclusive",
        'spec.template.spec.containers[1].name: Duplicate value: "Web"',
        'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
        "spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported",
    ]


def test_numbers_and_strategy() -> None:
    body = deployment(
        replicas=-1,
        minReadySeconds=700,
        strategy={"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "0%"}},
    )
    _, causes = create(body)
    assert messages(causes) == [
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
        'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:""}: '
        "may not be 0 when `maxSurge` is 0",
        "spec.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds",
    ]


def test_bad_percentages_and_strategy_types() -> None:
    _, causes = create(deployment(strategy={"rollingUpdate": {"maxUnavailable": "110%", "maxSurge": "x"}}))
    assert messages(causes) == [
        'spec.strategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"x"}: a '
        "valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used "
        "for validation is '[0-9]+%')",
        "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "
        'intstr.IntOrString{Type:1, IntVal:0, StrVal:"110%"}: must not be greater than 100%',
    ]
    _, causes = create(deployment(strategy={"type": "BlueGreen"}))
    assert messages(causes) == [
        'spec.strategy: Unsupported value: apps.DeploymentStrategy{Type:"BlueGreen", '
        'RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}: supported values: "Recreate", "RollingUpdate"'
    ]
    _, causes = create(deployment(strategy={"type": "Recreate", "rollingUpdate": {}}))
    assert messages(causes) == [
        "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"
    ]


def test_requests_above_limits_and_bad_quantities() -> None:
    containers = [
        {
            "name": "c",
            "image": "i",
            "resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1500m", "memory": "1024Mi"}},
        }
    ]
    template = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": containers}}
    _, causes = create(deployment(template=template))
    assert messages(causes) == [
        'spec.template.spec.containers[0].resources.requests: Invalid value: "1500m": must be less than or equal to '
        "cpu limit of 1"
    ]
    bad = deployment(
        template={
            **template,
            "spec": {"containers": [{"name": "c", "image": "i", "resources": {"limits": {"memory": "1GB"}}}]},
        }
    )
    assert strategy_for("apps", "Deployment").decode_error(bad) == (
        'Deployment in version "v1" cannot be handled as a Deployment: quantities must match the regular expression '
        "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    )
    assert strategy_for("apps", "Deployment").decode_error(deployment()) is None


# ---- updates -------------------------------------------------------------------------------------------------


def test_selector_is_immutable() -> None:
    old = stored()
    body = deployment(selector={"matchLabels": {"app": "web", "tier": "b"}})
    body["spec"]["template"]["metadata"]["labels"]["tier"] = "b"
    _, causes = update(body, old)
    assert messages(causes) == [
        'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web", "tier":"b"}, '
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"
    ]


def test_generation_moves_with_spec_and_annotations_only() -> None:
    old = stored()
    same, causes = update(deployment(), old)
    assert causes == [] and same["metadata"]["generation"] == 1
    labelled = deployment()
    labelled["metadata"]["labels"] = {"team": "a"}
    assert update(labelled, old)[0]["metadata"]["generation"] == 1
    annotated = deployment()
    annotated["metadata"]["annotations"] = {"note": "x"}
    assert update(annotated, old)[0]["metadata"]["generation"] == 2
    scaled = deployment(replicas=3)
    assert update(scaled, old)[0]["metadata"]["generation"] == 2


def test_a_client_cannot_set_generation_or_status_on_update() -> None:
    old = stored()
    old["status"] = {"replicas": 1}
    body = deployment()
    body["metadata"]["generation"] = 42
    body["status"] = {"replicas": 9}
    obj, _ = update(body, old)
    assert obj["metadata"]["generation"] == 1
    assert obj["status"] == {"replicas": 1}


def test_status_writes_keep_spec_and_labels() -> None:
    old = stored()
    old["metadata"]["labels"] = {"a": "1"}
    body = deployment(replicas=9)
    body["metadata"]["labels"] = {"a": "2"}
    body["metadata"]["annotations"] = {"n": "1"}
    body["status"] = {"replicas": 3, "readyReplicas": 3, "availableReplicas": 3, "observedGeneration": 1}
    obj, causes = update(body, old, status=True)
    assert causes == []
    assert obj["spec"] == old["spec"]
    assert obj["metadata"]["labels"] == {"a": "1"}
    assert obj["metadata"]["annotations"] == {"n": "1"}
    assert obj["metadata"]["generation"] == 1
    assert obj["status"]["replicas"] == 3


def test_status_validation() -> None:
    old = stored()
    old["status"] = {"collisionCount": 2}
    body = deployment()
    body["status"] = {"replicas": 1, "readyReplicas": 2, "availableReplicas": 3, "collisionCount": 1}
    _, causes = update(body, old, status=True)
    assert messages(causes) == [
        "status.readyReplicas: Invalid value: 2: cannot be greater than status.replicas",
        "status.availableReplicas: Invalid value: 3: cannot be greater than status.replicas",
        "status.availableReplicas: Invalid value: 3: cannot be greater than readyReplicas",
        "status.collisionCount: Invalid value: 1: cannot be decremented",
    ]


# ---- ReplicaSet ----------------------------------------------------------------------------------------------


def replicaset(**spec: Any) -> dict[str, Any]:
    body = deployment(**spec)
    body["kind"] = "ReplicaSet"
    return body


def test_replicaset_defaults_validation_and_immutable_selector() -> None:
    obj, causes = create(replicaset(), kind="ReplicaSet")
    assert causes == []
    assert obj["spec"]["replicas"] == 1
    assert "strategy" not in obj["spec"]
    assert obj["metadata"]["generation"] == 1
    _, causes = create(
        replicaset(replicas=-2, minReadySeconds=-1, selector={"matchLabels": {"app": "x"}}), kind="ReplicaSet"
    )
    assert [c.field for c in causes] == ["spec.replicas", "spec.minReadySeconds", "spec.template.metadata.labels"]
    body = replicaset(selector={"matchLabels": {"app": "web", "x": "y"}})
    body["spec"]["template"]["metadata"]["labels"]["x"] = "y"
    _, causes = update(body, obj, kind="ReplicaSet")
    assert [c.message.endswith("field is immutable") for c in causes] == [True]
    scaled, causes = update(replicaset(replicas=4), obj, kind="ReplicaSet")
    assert causes == [] and scaled["metadata"]["generation"] == 2


def test_replicaset_status_checks_and_keeps_spec() -> None:
    old, _ = create(replicaset(), kind="ReplicaSet")
    body = replicaset(replicas=7)
    body["status"] = {"replicas": 1, "fullyLabeledReplicas": 2}
    obj, causes = update(body, old, kind="ReplicaSet", status=True)
    assert obj["spec"]["replicas"] == 1
    assert messages(causes) == ["status.fullyLabeledReplicas: Invalid value: 2: cannot be greater than status.replicas"]
