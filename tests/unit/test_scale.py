import pytest

from controlplane.apiserver.handlers.scale import from_scale, selector_string, to_scale
from controlplane.errors import StatusError

DEPLOYMENT = {
    "metadata": {"name": "web", "namespace": "default", "uid": "u1", "resourceVersion": "7"},
    "spec": {
        "replicas": 3,
        "selector": {
            "matchLabels": {"app": "web"},
            "matchExpressions": [{"key": "tier", "operator": "In", "values": ["b", "a"]}],
        },
    },
    "status": {"replicas": 2},
}


def test_scale_view_of_a_deployment() -> None:
    scale = to_scale(DEPLOYMENT)
    assert scale["kind"] == "Scale" and scale["apiVersion"] == "autoscaling/v1"
    assert scale["spec"] == {"replicas": 3}
    assert scale["status"] == {"replicas": 2, "selector": "app=web,tier in (a,b)"}
    assert scale["metadata"]["resourceVersion"] == "7"


def test_writing_a_scale_changes_only_replicas() -> None:
    updated = from_scale(DEPLOYMENT, {"spec": {"replicas": 5}})
    assert updated["spec"]["replicas"] == 5
    assert updated["spec"]["selector"] == DEPLOYMENT["spec"]["selector"]
    assert DEPLOYMENT["spec"]["replicas"] == 3


def test_negative_replicas_are_invalid() -> None:
    with pytest.raises(StatusError) as err:
        from_scale(DEPLOYMENT, {"spec": {"replicas": -1}})
    assert err.value.code == 422


def test_selector_string_forms() -> None:
    assert selector_string(None) == ""
    sel = {"matchExpressions": [{"key": "a", "operator": "Exists"}, {"key": "b", "operator": "DoesNotExist"}]}
    assert selector_string(sel) == "!b,a"
