"""Namespace, Event, ServiceAccount and the generic (custom resource) strategies, and the strategy lookup."""

from __future__ import annotations

import copy
from typing import Any

from controlplane.errors import Cause
from controlplane.registry import status_strategy_for, strategy_for
from controlplane.registry.base import GenericStrategy
from controlplane.registry.deployment import DeploymentStrategy


def create(group: str, kind: str, obj: dict[str, Any]) -> tuple[dict[str, Any], list[Cause]]:
    obj = copy.deepcopy(obj)
    strategy = strategy_for(group, kind)
    strategy.prepare_for_create(obj)
    strategy.default(obj)
    return obj, strategy.validate(obj)


def update(
    group: str, kind: str, obj: dict[str, Any], old: dict[str, Any], *, status: bool = False
) -> tuple[dict[str, Any], list[Cause]]:
    obj = copy.deepcopy(obj)
    strategy = status_strategy_for(group, kind) if status else strategy_for(group, kind)
    strategy.prepare_for_update(obj, old)
    strategy.default(obj)
    return obj, strategy.validate(obj) + strategy.validate_update(obj, old)


def messages(causes: list[Cause]) -> list[str]:
    return [f"{c.field}: {c.message}" for c in causes]


# ---- Namespace -----------------------------------------------------------------------------------------------


def namespace(name: str = "team-a", **fields: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}, **fields}


def test_namespace_create() -> None:
    obj, causes = create("", "Namespace", namespace(status={"phase": "Terminating"}))
    assert causes == []
    assert obj["metadata"]["labels"] == {"kubernetes.io/metadata.name": "team-a"}
    assert obj["spec"] == {"finalizers": ["kubernetes"]}
    assert obj["status"] == {"phase": "Active"}
    assert "generation" not in obj["metadata"]


def test_namespace_names_are_dns_labels() -> None:
    _, causes = create("", "Namespace", namespace("team.a"))
    assert [c.field for c in causes] == ["metadata.name"]
    assert causes[0].message.startswith('Invalid value: "team.a": a lowercase RFC 1123 label must consist')


def test_namespace_spec_finalizers() -> None:
    obj, causes = create("", "Namespace", namespace(spec={"finalizers": ["example.com/x", "custom"]}))
    assert obj["spec"]["finalizers"] == ["example.com/x", "custom", "kubernetes"]
    assert messages(causes) == [
        'spec.finalizers: Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified'
    ]


def test_namespace_update_keeps_finalizers_status_and_name_label() -> None:
    old, _ = create("", "Namespace", namespace())
    body = namespace(spec={"finalizers": []}, status={"phase": "Terminating"})
    body["metadata"]["labels"] = {"kubernetes.io/metadata.name": "other", "team": "a"}
    obj, causes = update("", "Namespace", body, old)
    assert causes == []
    assert obj["spec"] == {"finalizers": ["kubernetes"]}
    assert obj["status"] == {"phase": "Active"}
    assert obj["metadata"]["labels"] == {"kubernetes.io/metadata.name": "team-a", "team": "a"}


def test_namespace_status_phase_rules() -> None:
    old, _ = create("", "Namespace", namespace())
    _, causes = update("", "Namespace", namespace(status={"phase": "Terminating"}), old, status=True)
    assert messages(causes) == [
        "status.Phase: Invalid value: \"Terminating\": may only be 'Active' if `deletionTimestamp` is empty"
    ]
    deleting = copy.deepcopy(old)
    deleting["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    body = namespace(status={"phase": "Terminating"})
    body["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z"
    obj, causes = update("", "Namespace", body, deleting, status=True)
    assert causes == [] and obj["status"] == {"phase": "Terminating"}


# ---- Event and ServiceAccount --------------------------------------------------------------------------------


def event(**fields: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": "web.17a2b3c4d5", "namespace": "default"},
        "involvedObject": {"kind": "Pod", "name": "web", "namespace": "default"},
        "reason": "Started",
        **fields,
    }


def test_events_are_lenient() -> None:
    body = event()
    body["metadata"]["name"] = "Odd_Name.With.Caps"
    assert create("", "Event", body)[1] == []
    assert create("", "Event", event(involvedObject={}))[1] == []


def test_event_namespace_must_match() -> None:
    _, causes = create("", "Event", event(involvedObject={"namespace": "other"}))
    assert messages(causes) == ['involvedObject.namespace: Invalid value: "other": does not match event.namespace']


def test_new_style_events_need_reporting_fields() -> None:
    _, causes = create("", "Event", event(eventTime="2024-01-01T00:00:00.000000Z", reason=""))
    assert messages(causes) == [
        "source: Required value",
        'source: Invalid value: "": name part must be non-empty',
        "source: Invalid value: \"\": name part must consist of alphanumeric characters, '-', '_' or '.', and must "
        "start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
        "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
        "reportingInstance: Required value",
        "action: Required value",
        "reason: Required value",
    ]


def test_event_names_may_not_contain_slashes() -> None:
    body = event()
    body["metadata"]["name"] = "a/b"
    assert messages(create("", "Event", body)[1]) == ["metadata.name: Invalid value: \"a/b\": may not contain '/'"]


def test_service_account() -> None:
    body = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "builder", "namespace": "ci"}}
    obj, causes = create("", "ServiceAccount", body)
    assert causes == [] and obj == body
    body["metadata"]["name"] = "Builder"
    assert [c.field for c in create("", "ServiceAccount", body)[1]] == ["metadata.name"]


# ---- generic strategy and the lookup ---------------------------------------------------------------------------


def widget(**fields: Any) -> dict[str, Any]:
    return {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "d"}, **fields}


def test_lookup() -> None:
    assert isinstance(strategy_for("apps", "Deployment"), DeploymentStrategy)
    generic = strategy_for("example.com", "Widget")
    assert isinstance(generic, GenericStrategy) and generic.kind == "Widget"
    assert status_strategy_for("", "ConfigMap").kind == "ConfigMap"


def test_generic_create_and_generation() -> None:
    obj, causes = create("example.com", "Widget", widget(spec={"size": 1}, status={"ready": True}))
    assert causes == []
    assert obj["metadata"]["generation"] == 1
    assert "status" not in obj
    obj["status"] = {"ready": True}
    relabelled = widget(spec={"size": 1})
    relabelled["metadata"]["labels"] = {"a": "b"}
    same, causes = update("example.com", "Widget", relabelled, obj)
    assert causes == [] and same["metadata"]["generation"] == 1 and same["status"] == {"ready": True}
    changed, _ = update("example.com", "Widget", widget(spec={"size": 2}, extra=[1]), obj)
    assert changed["metadata"]["generation"] == 2


def test_generic_validates_only_metadata() -> None:
    body = widget(spec={"anything": ["goes"]})
    body["metadata"]["name"] = "Not_Valid"
    body["metadata"]["finalizers"] = ["unqualified"]
    assert [c.field for c in create("example.com", "Widget", body)[1]] == ["metadata.name"]


def test_generic_status_writes_change_only_status() -> None:
    old, _ = create("example.com", "Widget", widget(spec={"size": 1}))
    body = widget(spec={"size": 5}, status={"ready": True})
    body["metadata"]["labels"] = {"a": "b"}
    obj, causes = update("example.com", "Widget", body, old, status=True)
    assert causes == []
    assert obj["spec"] == {"size": 1}
    assert "labels" not in obj["metadata"]
    assert obj["status"] == {"ready": True}
    assert obj["metadata"]["generation"] == 1
