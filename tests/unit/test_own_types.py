from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

import api.types
from api.registry import BUILTIN, Registry
from api.schema import own_type_schema, schema_for
from api.types import CLUSTER, PLACEMENT
from controlplane.fieldvalidation import unknown_fields
from controlplane.openapi import openapi_v3_group_version
from controlplane.printers import table
from controlplane.registry import status_strategy_for, strategy_for
from tests.widget import WIDGET


@pytest.fixture
def widget_served(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(api.types, "OWN_TYPES", (WIDGET,))
    schema_for.cache_clear()
    yield
    schema_for.cache_clear()


def widget(**spec: object) -> dict:
    return {"apiVersion": "test.canopy.dev/v1alpha1", "kind": "Widget",
            "metadata": {"name": "w", "namespace": "default"}, "spec": spec}


def test_schema_describes_spec_fields_in_camel_case() -> None:
    schema = own_type_schema(WIDGET)
    spec = schema.child("spec")
    assert spec is not None and spec.child("replicas") is not None
    replicas = spec.child("replicas")
    assert replicas is not None and (replicas.kind, replicas.description) == ("integer", "How many widgets to make.")
    assert spec.child("ownerTeam") is not None and spec.child("owner_team") is None
    parts = spec.child("parts")
    assert parts is not None and parts.kind == "array" and parts.items is not None
    assert parts.items.child("count") is not None


def test_unknown_fields_are_found_against_the_model() -> None:
    assert unknown_fields(widget(replicaz=2), own_type_schema(WIDGET)) == ['unknown field "spec.replicaz"']


def test_defaults_come_from_the_model(widget_served: None) -> None:
    obj = widget(parts=[{"name": "bolt"}])
    strategy_for("test.canopy.dev", "Widget").prepare_for_create(obj)
    assert obj["spec"] == {"replicas": 1, "size": "M", "parts": [{"name": "bolt", "count": 1}]}
    assert obj["metadata"]["generation"] == 1


def test_validation_errors_name_the_field_in_kubernetes_wording(widget_served: None) -> None:
    causes = strategy_for("test.canopy.dev", "Widget").validate(widget(replicas=-1, size="XL", parts=[{}]))
    by_field = {c.field: c for c in causes}
    assert by_field["spec.replicas"].message.startswith("Invalid value: -1: input should be greater than or equal")
    assert by_field["spec.size"].type == "FieldValueNotSupported"
    assert by_field["spec.parts[0].name"].message == "Required value"


def test_strict_types_a_string_is_not_an_integer(widget_served: None) -> None:
    causes = strategy_for("test.canopy.dev", "Widget").validate(widget(replicas="2"))
    assert [c.field for c in causes] == ["spec.replicas"]


def test_status_writes_are_validated_against_the_status_model(widget_served: None) -> None:
    old = widget(replicas=1)
    new = {**widget(replicas=5), "status": {"phase": 3}}
    strategy = status_strategy_for("test.canopy.dev", "Widget")
    strategy.prepare_for_update(new, old)
    assert new["spec"] == {"replicas": 1}
    assert [c.field for c in strategy.validate_update(new, old)] == ["status.phase"]


def test_table_shows_the_declared_columns(widget_served: None) -> None:
    obj = {**widget(size="L", replicas=2), "status": {"phase": "Ready"}}
    obj["metadata"]["creationTimestamp"] = "2026-01-01T00:00:00Z"
    result = table(WIDGET.resource, [obj], now=datetime(2026, 1, 1, 0, 5, tzinfo=UTC))
    assert [c["name"] for c in result["columnDefinitions"]] == ["Name", "Size", "Replicas", "Phase", "Age"]
    assert result["rows"][0]["cells"] == ["w", "L", 2, "Ready", "5m"]


def test_openapi_documents_the_own_type(widget_served: None) -> None:
    registry = Registry([*BUILTIN, WIDGET.resource])
    doc = openapi_v3_group_version(registry, "test.canopy.dev", "v1alpha1")
    assert doc is not None
    schemas = doc["components"]["schemas"]
    widget_schema = next(s for name, s in schemas.items() if name.endswith(".Widget"))
    assert "spec" in widget_schema["properties"]


# ---- Cluster and Placement (workload.canopy.dev) ----------------------------------------------------------------

WORKLOAD = "workload.canopy.dev"
JAN_1 = "2026-01-01T00:00:00Z"


def workload(kind: str, spec: dict | None = None, status: dict | None = None) -> dict:
    obj: dict = {"apiVersion": f"{WORKLOAD}/v1alpha1", "kind": kind,
                 "metadata": {"name": "x", "creationTimestamp": JAN_1}}
    if spec is not None:
        obj["spec"] = spec
    if status is not None:
        obj["status"] = status
    return obj


def test_a_cluster_allows_no_workspace_unless_told() -> None:
    obj = workload("Cluster")
    strategy_for(WORKLOAD, "Cluster").prepare_for_create(obj)
    assert obj["spec"] == {"allowedWorkspaces": []}


@pytest.mark.parametrize("pattern", ["root:team-a", "root:*", "root:org:*", "root"])
def test_allowed_workspaces_are_paths_or_trailing_globs(pattern: str) -> None:
    assert strategy_for(WORKLOAD, "Cluster").validate(workload("Cluster", {"allowedWorkspaces": [pattern]})) == []


@pytest.mark.parametrize("pattern", ["team-a", "*", "root:*:dev", "root:team*", "root:Team-A", "root:"])
def test_other_allowed_workspaces_are_refused_with_their_field(pattern: str) -> None:
    causes = strategy_for(WORKLOAD, "Cluster").validate(workload("Cluster", {"allowedWorkspaces": [pattern]}))
    assert [c.field for c in causes] == ["spec.allowedWorkspaces[0]"]


def test_cluster_status_is_validated_like_a_nodes() -> None:
    old = workload("Cluster", {"allowedWorkspaces": []})
    good = {"lastHeartbeatTime": JAN_1, "kubernetesVersion": "v1.32.0+k3s1", "nodes": 3,
            "capacity": {"cpu": "4", "memory": "8Gi"}, "allocatable": {"cpu": "3800m", "pods": "110"},
            "workspaces": [{"workspace": "root:team-a", "namespaces": ["default"]}],
            "conditions": [{"type": "Ready", "status": "True", "reason": "SyncerReady", "message": "",
                            "lastTransitionTime": JAN_1}]}
    strategy = status_strategy_for(WORKLOAD, "Cluster")
    new = workload("Cluster", {"allowedWorkspaces": []}, good)
    strategy.prepare_for_update(new, old)
    assert strategy.validate_update(new, old) == []
    bad = {"nodes": -1, "capacity": {"memory": "lots"}, "lastHeartbeatTime": "yesterday",
           "conditions": [{"type": "Ready", "status": "Maybe", "reason": "", "lastTransitionTime": JAN_1}]}
    new = workload("Cluster", {"allowedWorkspaces": []}, bad)
    strategy.prepare_for_update(new, old)
    assert sorted(c.field for c in strategy.validate_update(new, old)) == [
        "status.capacity.memory", "status.conditions[0].reason", "status.conditions[0].status",
        "status.lastHeartbeatTime", "status.nodes",
    ]


def test_a_placement_divides_replicas_over_every_usable_cluster_by_default() -> None:
    obj = workload("Placement")
    strategy_for(WORKLOAD, "Placement").prepare_for_create(obj)
    assert obj["spec"] == {"clusterSelector": {}, "namespaceSelector": {}, "replicas": "Divided"}


def test_placement_selectors_and_modes_are_validated() -> None:
    spec = {"clusterSelector": {"matchLabels": {"bad key!": "eu"},
                                "matchExpressions": [{"key": "region", "operator": "In"},
                                                     {"key": "gpu", "operator": "Exists", "values": ["x"]},
                                                     {"key": "tier", "operator": "Gt", "values": ["1"]}]},
            "replicas": "Spread"}
    by_field = {c.field: c for c in strategy_for(WORKLOAD, "Placement").validate(workload("Placement", spec))}
    assert set(by_field) == {
        "spec.clusterSelector.matchLabels.bad key!.[key]", "spec.clusterSelector.matchExpressions[0]",
        "spec.clusterSelector.matchExpressions[1]", "spec.clusterSelector.matchExpressions[2].operator",
        "spec.replicas",
    }
    in_without_values = by_field["spec.clusterSelector.matchExpressions[0]"].message
    assert "values: must be specified when `operator` is 'In'" in in_without_values
    assert by_field["spec.replicas"].type == "FieldValueNotSupported"


def test_kubectl_get_clusters_shows_ready_version_and_nodes() -> None:
    status = {"kubernetesVersion": "v1.32.0+k3s1", "nodes": 3, "conditions": [
        {"type": "HeartbeatHealthy", "status": "False", "reason": "HeartbeatMissed", "lastTransitionTime": JAN_1},
        {"type": "Ready", "status": "True", "reason": "SyncerReady", "lastTransitionTime": JAN_1},
    ]}
    result = table(CLUSTER.resource, [workload("Cluster", {}, status), workload("Cluster", {})],
                   now=datetime(2026, 1, 1, 0, 5, tzinfo=UTC))
    assert [c["name"] for c in result["columnDefinitions"]] == ["Name", "Ready", "Version", "Nodes", "Heartbeat", "Age"]
    assert [c["priority"] for c in result["columnDefinitions"]] == [0, 0, 0, 0, 1, 0]
    assert [row["cells"] for row in result["rows"]] == [
        ["x", "True", "v1.32.0+k3s1", 3, "False", "5m"], ["x", None, None, None, None, "5m"]
    ]


def test_kubectl_get_placements_shows_the_chosen_clusters_comma_joined() -> None:
    placements = [workload("Placement", {"replicas": "Divided"}, {"chosenClusters": ["eu-1", "eu-2"]}),
                  workload("Placement", {"replicas": "Duplicated"}, {"chosenClusters": []})]
    result = table(PLACEMENT.resource, placements, now=datetime(2026, 1, 1, 1, 0, tzinfo=UTC))
    assert [c["name"] for c in result["columnDefinitions"]] == ["Name", "Clusters", "Replicas", "Age"]
    assert [row["cells"] for row in result["rows"]] == [["x", "eu-1,eu-2", "Divided", "60m"],
                                                        ["x", None, "Duplicated", "60m"]]
