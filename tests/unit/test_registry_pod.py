"""Pod strategy: SetDefaults_Pod, PodSpec validation, the frozen spec on update, QoS and the status subresource."""

from __future__ import annotations

import copy
from typing import Any

from controlplane.errors import Cause
from controlplane.registry import status_strategy_for, strategy_for
from controlplane.registry.pod import DEFAULT_TOLERATED_TAINTS, qos_class


def pod(**spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "default", "creationTimestamp": "2024-05-01T00:00:00Z"},
        "spec": {"containers": [{"name": "app", "image": "busybox:1.36"}]},
    }
    body["spec"].update(spec)
    return body


def create(obj: dict[str, Any]) -> tuple[dict[str, Any], list[Cause]]:
    obj = copy.deepcopy(obj)
    strategy = strategy_for("", "Pod")
    strategy.prepare_for_create(obj)
    strategy.default(obj)
    return obj, strategy.validate(obj)


def update(obj: dict[str, Any], old: dict[str, Any], *, status: bool = False) -> tuple[dict[str, Any], list[Cause]]:
    """`obj` as a client that read `old` sends it: with the tolerations admission added at create."""
    obj = copy.deepcopy(obj)
    spec = obj.setdefault("spec", {})
    admitted = [t for t in old["spec"].get("tolerations", []) if t.get("key") in DEFAULT_TOLERATED_TAINTS]
    spec["tolerations"] = [*spec.get("tolerations", []), *[t for t in admitted if t not in spec.get("tolerations", [])]]
    strategy = status_strategy_for("", "Pod") if status else strategy_for("", "Pod")
    strategy.prepare_for_update(obj, old)
    strategy.default(obj)
    return obj, strategy.validate(obj) + strategy.validate_update(obj, old)


def messages(causes: list[Cause]) -> list[str]:
    return [f"{c.field}: {c.message}" for c in causes]


def container(**fields: Any) -> dict[str, Any]:
    return {"name": "app", "image": "busybox:1.36", **fields}


# ---- defaults ------------------------------------------------------------------------------------------------


def test_pod_defaults_and_initial_status() -> None:
    probe = {"httpGet": {"port": 8080}}
    env = [{"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}]
    body = pod(
        containers=[
            container(
                image="nginx",
                ports=[{"containerPort": 80}],
                livenessProbe=probe,
                env=env,
                resources={"limits": {"cpu": "0.5", "memory": "128Mi"}},
            )
        ],
        volumes=[
            {"name": "cfg", "configMap": {"name": "c"}},
            {"name": "tmp"},
            {"name": "s", "secret": {"secretName": "x"}},
        ],
    )
    body["status"] = {"phase": "Running"}
    obj, causes = create(body)
    assert causes == []
    spec = obj["spec"]
    assert spec["enableServiceLinks"] is True
    c = spec["containers"][0]
    assert c["imagePullPolicy"] == "Always"
    assert c["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert c["livenessProbe"] == {
        "httpGet": {"port": 8080, "path": "/", "scheme": "HTTP"},
        "timeoutSeconds": 1,
        "periodSeconds": 10,
        "successThreshold": 1,
        "failureThreshold": 3,
    }
    assert c["env"][0]["valueFrom"]["fieldRef"] == {"fieldPath": "spec.nodeName", "apiVersion": "v1"}
    assert c["resources"] == {
        "limits": {"cpu": "500m", "memory": "128Mi"},
        "requests": {"cpu": "500m", "memory": "128Mi"},
    }
    assert spec["volumes"] == [
        {"name": "cfg", "configMap": {"name": "c", "defaultMode": 420}},
        {"name": "tmp", "emptyDir": {}},
        {"name": "s", "secret": {"secretName": "x", "defaultMode": 420}},
    ]
    assert obj["status"] == {"phase": "Pending", "qosClass": "Guaranteed"}
    assert "generation" not in obj["metadata"]


def test_defaulting_is_idempotent() -> None:
    obj, _ = create(pod(containers=[container(readinessProbe={"tcpSocket": {"port": 80}})]))
    again = copy.deepcopy(obj)
    strategy_for("", "Pod").default(again)
    assert again == obj


def test_scheduling_gates_add_a_condition() -> None:
    obj, causes = create(pod(schedulingGates=[{"name": "example.com/wait"}]))
    assert causes == []
    assert obj["status"]["conditions"] == [
        {
            "type": "PodScheduled",
            "status": "False",
            "lastProbeTime": None,
            "lastTransitionTime": "2024-05-01T00:00:00Z",
            "reason": "SchedulingGated",
            "message": "Scheduling is blocked due to non-empty scheduling gates",
        }
    ]


def test_qos_classes() -> None:
    def spec(*resources: dict[str, Any]) -> dict[str, Any]:
        return {"containers": [{"name": f"c{i}", "resources": r} for i, r in enumerate(resources)]}

    full = {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1", "memory": "1Gi"}}
    assert qos_class(spec({})) == "BestEffort"
    assert qos_class(spec(full)) == "Guaranteed"
    assert qos_class(spec(full, {})) == "Burstable"
    assert qos_class(spec({"requests": {"memory": "1Gi"}})) == "Burstable"
    assert qos_class(spec({"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "500m", "memory": "1Gi"}})) == (
        "Burstable"
    )
    assert qos_class(spec({"requests": {"cpu": "0"}})) == "BestEffort"


# ---- validation ----------------------------------------------------------------------------------------------


def test_restart_policy_and_missing_containers() -> None:
    _, causes = create(pod(containers=[], restartPolicy="Sometimes"))
    assert messages(causes) == [
        "spec.containers: Required value",
        'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
    ]
    assert create(pod(restartPolicy="OnFailure"))[1] == []


def test_volume_mounts_must_reference_volumes() -> None:
    body = pod(
        containers=[container(volumeMounts=[{"name": "data", "mountPath": "/d"}, {"name": "cfg", "mountPath": "/d"}])],
        volumes=[{"name": "cfg", "configMap": {"name": "c"}}, {"name": "data", "hostPath": {}, "emptyDir": {}}],
    )
    _, causes = create(body)
    assert messages(causes) == [
        "spec.volumes[1].emptyDir: Forbidden: may not specify more than 1 volume type",
        "spec.volumes[1].hostPath.path: Required value",
        'spec.containers[0].volumeMounts[0].name: Not found: "data"',
        'spec.containers[0].volumeMounts[1].mountPath: Invalid value: "/d": must be unique',
    ]
    assert causes[2].type == "FieldValueNotFound"


def test_volume_names_and_sources() -> None:
    body = pod(
        volumes=[
            {"name": "a", "persistentVolumeClaim": {"claimName": "c"}},
            {"name": "a", "persistentVolumeClaim": {}},
            {"name": "b", "configMap": {"name": "", "defaultMode": 0o1000, "items": [{"key": "k", "path": "../x"}]}},
            {"name": "B", "secret": {"secretName": "s"}},
        ]
    )
    _, causes = create(body)
    assert messages(causes) == [
        "spec.volumes[1].persistentVolumeClaim.claimName: Required value",
        'spec.volumes[1].name: Duplicate value: "a"',
        "spec.volumes[2].configMap.name: Required value",
        "spec.volumes[2].configMap.defaultMode: Invalid value: 512: must be a number between 0 and 0777 (octal), both "
        "inclusive",
        "spec.volumes[2].configMap.items[0].path: Invalid value: \"../x\": must not contain '..'",
        'spec.volumes[3].name: Invalid value: "B": a lowercase RFC 1123 label must consist of lower case alphanumeric '
        "characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
        "regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    ]


def test_probe_and_lifecycle_rules() -> None:
    body = pod(
        containers=[
            container(
                livenessProbe={"exec": {"command": ["true"]}, "tcpSocket": {"port": 80}, "successThreshold": 2},
                readinessProbe={"httpGet": {"port": "web-port-too-long-name", "scheme": "FTP"}},
                startupProbe={"periodSeconds": -1},
                lifecycle={"preStop": {"sleep": {"seconds": 60}}},
            )
        ]
    )
    _, causes = create(body)
    assert messages(causes) == [
        "spec.containers[0].lifecycle.preStop.sleep: Invalid value: 60: must be greater than 0 and less than "
        "terminationGracePeriodSeconds (30). Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep.",
        "spec.containers[0].livenessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type",
        "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1",
        'spec.containers[0].readinessProbe.httpGet.port: Invalid value: "web-port-too-long-name": must be no more than '
        "15 characters",
        'spec.containers[0].readinessProbe.httpGet.scheme: Unsupported value: "FTP": supported values: "HTTP", "HTTPS"',
        "spec.containers[0].startupProbe: Required value: must specify a handler type",
        "spec.containers[0].startupProbe.periodSeconds: Invalid value: -1: must be greater than or equal to 0",
    ]


def test_env_rules() -> None:
    env = [
        {"name": "A=B", "value": "x"},
        {"name": "B", "valueFrom": {}},
        {"name": "C", "value": "v", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
        {"name": "D", "valueFrom": {"fieldRef": {"fieldPath": "spec.restartPolicy"}}},
        {"name": "E", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
        {"name": "F", "valueFrom": {"fieldRef": {"fieldPath": "spec.nothing"}}},
    ]
    _, causes = create(pod(containers=[container(env=env)]))
    assert messages(causes) == [
        'spec.containers[0].env[0].name: Invalid value: "A=B": a valid environment variable name must consist only '
        "of printable ASCII characters other than '='",
        'spec.containers[0].env[1].valueFrom: Invalid value: "": must specify one of: `fieldRef`, `resourceFieldRef`, '
        "`configMapKeyRef` or `secretKeyRef`",
        'spec.containers[0].env[2].valueFrom: Invalid value: "": may not be specified when `value` is not empty',
        'spec.containers[0].env[3].valueFrom.fieldRef.fieldPath: Unsupported value: "spec.restartPolicy": supported '
        'values: "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", '
        '"status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"',
        'spec.containers[0].env[5].valueFrom.fieldRef.fieldPath: Invalid value: "spec.nothing": error converting '
        "fieldPath: field label not supported: spec.nothing",
    ]


def test_resource_names_and_extended_resources() -> None:
    resources = {"limits": {"example.com/gpu": "1", "cpus": "1"}, "requests": {"example.com/gpu": "2"}}
    obj, causes = create(pod(containers=[container(resources=resources)]))
    # A pod's requests default from its limits, so the bad name is reported for both.
    assert obj["spec"]["containers"][0]["resources"]["requests"] == {"example.com/gpu": "2", "cpus": "1"}
    bad_name = [
        'Invalid value: "cpus": must be a standard resource type or fully qualified',
        'Invalid value: "cpus": must be a standard resource for containers',
    ]
    assert messages(causes) == [
        *(f"spec.containers[0].resources.limits[cpus]: {m}" for m in bad_name),
        *(f"spec.containers[0].resources.requests[cpus]: {m}" for m in bad_name),
        'spec.containers[0].resources.requests: Invalid value: "2": must be equal to example.com/gpu limit of 1',
    ]


def test_host_ports_conflict_and_host_network() -> None:
    ports = [{"containerPort": 80, "hostPort": 8080}]
    _, causes = create(pod(containers=[container(ports=ports), container(name="b", ports=ports)]))
    assert messages(causes) == ['spec.containers[1].ports[0].hostPort: Duplicate value: "TCP//8080"']
    obj, causes = create(pod(hostNetwork=True, containers=[container(ports=[{"containerPort": 80}])]))
    assert causes == [] and obj["spec"]["containers"][0]["ports"][0]["hostPort"] == 80


def test_pod_only_checks() -> None:
    _, causes = create(pod(nodeName="node-1", schedulingGates=[{"name": "g"}], containers=[container(image=" nginx")]))
    assert messages(causes) == [
        'spec.containers[0].image: Invalid value: " nginx": must not have leading or trailing whitespace',
        "spec.nodeName: Forbidden: cannot be set until all schedulingGates have been cleared",
    ]


def test_tolerations_and_dns() -> None:
    _, causes = create(
        pod(
            tolerations=[{"operator": "Equal", "value": "x"}, {"key": "k", "operator": "Exists", "value": "v"}],
            dnsPolicy="None",
        )
    )
    assert messages(causes) == [
        "spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None",
        'spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, which '
        'means "match all values and all keys"',
        "spec.tolerations[1].operator: Invalid value: \"v\": value must be empty when `operator` is 'Exists'",
    ]


def test_bad_quantities_are_decode_errors() -> None:
    body = pod(containers=[container(resources={"requests": {"memory": "lots"}})])
    assert strategy_for("", "Pod").decode_error(body) == (
        'Pod in version "v1" cannot be handled as a Pod: quantities must match the regular expression '
        "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    )


def test_new_pods_tolerate_not_ready_and_unreachable_nodes_for_five_minutes() -> None:
    obj, _ = create(pod())
    assert obj["spec"]["tolerations"] == [
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
         "tolerationSeconds": 300},
    ]
    own = {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 5}
    obj, _ = create(pod(tolerations=[own]))
    assert obj["spec"]["tolerations"][0] == own
    assert [t["key"] for t in obj["spec"]["tolerations"]] == list(DEFAULT_TOLERATED_TAINTS)
    obj, _ = create(pod(tolerations=[{"operator": "Exists"}]))
    assert obj["spec"]["tolerations"] == [{"operator": "Exists"}]


# ---- updates -------------------------------------------------------------------------------------------------


def test_image_and_deadline_updates_are_allowed() -> None:
    old, _ = create(pod(activeDeadlineSeconds=100))
    new = pod(activeDeadlineSeconds=50, containers=[container(image="busybox:1.37")])
    obj, causes = update(new, old)
    assert causes == []
    assert obj["status"] == old["status"]
    _, causes = update(pod(activeDeadlineSeconds=200), old)
    assert messages(causes) == [
        "spec.activeDeadlineSeconds: Invalid value: 200: must be less than or equal to previous value"
    ]


def test_other_spec_changes_are_forbidden() -> None:
    old, _ = create(pod())
    _, causes = update(pod(restartPolicy="Never"), old)
    assert len(causes) == 1 and causes[0].field == "spec" and causes[0].type == "FieldValueForbidden"
    assert causes[0].message.startswith(
        "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
        "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing "
        "tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n"
    )
    assert "spec.restartPolicy" in causes[0].message
    _, causes = update(pod(containers=[container(), container(name="b")]), old)
    assert messages(causes) == ["spec.containers: Forbidden: pod updates may not add or remove containers"]


def test_tolerations_may_only_be_added_and_gates_only_removed() -> None:
    old, _ = create(pod(tolerations=[{"key": "a", "operator": "Exists"}], schedulingGates=[{"name": "g"}]))
    added = pod(tolerations=[{"key": "a", "operator": "Exists"}, {"key": "b", "operator": "Exists"}])
    assert update(added, old)[1] == []
    _, causes = update(pod(tolerations=[], schedulingGates=[{"name": "g"}, {"name": "h"}]), old)
    assert messages(causes) == [
        "spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds",
        "spec.schedulingGates[1].name: Forbidden: only deletion is allowed, but found new scheduling gate 'h'",
    ]


def test_status_writes_keep_spec_owner_references_and_qos() -> None:
    old, _ = create(pod())
    old["metadata"]["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "u"}]
    body = pod(restartPolicy="Never")
    body["status"] = {"phase": "Running", "podIPs": [{"ip": "10.0.0.300"}]}
    obj, causes = update(body, old, status=True)
    assert obj["spec"] == old["spec"]
    assert obj["metadata"]["ownerReferences"] == old["metadata"]["ownerReferences"]
    assert obj["status"]["qosClass"] == "BestEffort"
    assert messages(causes) == [
        'status.podIPs[0]: Invalid value: "10.0.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'
    ]
