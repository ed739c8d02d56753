"""core/v1 Events as client-go's EventRecorder writes them: the reference, the body, and what folds repeats."""

from __future__ import annotations

import re
from typing import Any

from simcluster.events import NORMAL, WARNING, Source, correlation_key, event, involved

POD: dict[str, Any] = {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "web-7d4b9c-x2x9z", "namespace": "shop", "uid": "1f0c-77aa", "resourceVersion": "4711",
                 "labels": {"app": "web"}},
    "spec": {"containers": [{"name": "app"}]},
}
NODE: dict[str, Any] = {"apiVersion": "v1", "kind": "Node",
                        "metadata": {"name": "edge-1-agent-0", "uid": "n-1", "resourceVersion": "9"}}
KUBELET = Source("kubelet", "edge-1-agent-0")
SCHEDULER = Source("default-scheduler")
NOW = "2026-11-25T10:00:00Z"
BACK_OFF = "Back-off restarting failed container app in pod web-7d4b9c-x2x9z_shop(1f0c-77aa)"


def test_the_reference_names_the_object_and_nothing_else() -> None:
    assert involved(POD) == {"kind": "Pod", "namespace": "shop", "name": "web-7d4b9c-x2x9z", "uid": "1f0c-77aa",
                             "apiVersion": "v1", "resourceVersion": "4711"}


def test_a_container_is_referenced_by_its_field_path() -> None:
    assert involved(POD, "spec.containers{app}")["fieldPath"] == "spec.containers{app}"


def test_empty_reference_fields_are_left_out() -> None:
    ref = involved(NODE)
    assert ref == {"kind": "Node", "name": "edge-1-agent-0", "uid": "n-1", "apiVersion": "v1", "resourceVersion": "9"}
    assert "fieldPath" not in involved(POD)


def test_an_event_is_named_after_the_object_and_the_time_in_hex() -> None:
    body = event(involved(POD), KUBELET, WARNING, "BackOff", BACK_OFF, now=NOW, name_suffix=1764064800123456789)
    assert body["metadata"] == {"name": "web-7d4b9c-x2x9z.187b3796dc210d15", "namespace": "shop"}
    assert re.fullmatch(r"web-7d4b9c-x2x9z\.[0-9a-f]+", body["metadata"]["name"])


def test_a_new_event_is_counted_once_with_first_and_last_time_equal() -> None:
    ref = involved(POD, "spec.containers{app}")
    body = event(ref, KUBELET, WARNING, "BackOff", BACK_OFF, now=NOW, name_suffix=255)
    assert body == {
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": "web-7d4b9c-x2x9z.ff", "namespace": "shop"},
        "involvedObject": ref,
        "reason": "BackOff", "message": BACK_OFF, "type": "Warning",
        "source": {"component": "kubelet", "host": "edge-1-agent-0"},
        "firstTimestamp": NOW, "lastTimestamp": NOW, "count": 1,
        "eventTime": None,
        "reportingComponent": "kubelet", "reportingInstance": "edge-1-agent-0",
    }


def test_a_component_without_a_host_reports_only_its_name() -> None:
    body = event(involved(POD), SCHEDULER, NORMAL, "Scheduled",
                 "Successfully assigned shop/web-7d4b9c-x2x9z to edge-1-agent-0", now=NOW, name_suffix=1)
    assert body["source"] == {"component": "default-scheduler"}
    assert body["reportingComponent"] == "default-scheduler"
    assert body["reportingInstance"] == ""
    assert body["type"] == "Normal"


def test_events_about_cluster_scoped_objects_go_to_the_default_namespace() -> None:
    body = event(involved(NODE), KUBELET, NORMAL, "NodeReady", "Node edge-1-agent-0 status is now: NodeReady",
                 now=NOW, name_suffix=16)
    assert body["metadata"] == {"name": "edge-1-agent-0.10", "namespace": "default"}
    assert "namespace" not in body["involvedObject"]


def key(ref: dict[str, Any], *, source: Source = KUBELET, type_: str = WARNING, reason: str = "BackOff",
        message: str = BACK_OFF) -> tuple[str, ...]:
    return correlation_key(ref, source, type_, reason, message)


def test_the_same_report_again_has_the_same_key() -> None:
    ref = involved(POD, "spec.containers{app}")
    assert key(ref) == key(dict(ref))


def test_a_newer_resource_version_of_the_object_is_still_the_same_event() -> None:
    # client-go's getEventKey leaves the involved object's resourceVersion out: a pod's status changes between
    # repeats, and `kubectl describe` still shows one `(x5 over 2m)` line.
    later = {**POD, "metadata": {**POD["metadata"], "resourceVersion": "5000"}}
    assert key(involved(POD, "spec.containers{app}")) == key(involved(later, "spec.containers{app}"))


def test_a_different_message_is_a_different_event() -> None:
    ref = involved(POD, "spec.containers{app}")
    assert key(ref) != key(ref, message="Back-off restarting failed container app in pod other_shop(x)")


def test_a_different_container_is_a_different_event() -> None:
    assert key(involved(POD, "spec.containers{app}")) != key(involved(POD, "spec.containers{sidecar}"))
    assert key(involved(POD, "spec.containers{app}")) != key(involved(POD))


def test_reason_type_and_reporter_tell_events_apart() -> None:
    ref = involved(POD, "spec.containers{app}")
    assert key(ref) != key(ref, reason="Failed")
    assert key(ref) != key(ref, type_=NORMAL)
    assert key(ref) != key(ref, source=Source("kubelet", "edge-1-agent-1"))
    assert key(ref) != key(ref, source=SCHEDULER)


def test_a_recreated_object_of_the_same_name_is_a_different_event() -> None:
    again = {**POD, "metadata": {**POD["metadata"], "uid": "2a2a-0000"}}
    assert key(involved(POD)) != key(involved(again))
