from api.registry import BUILTIN
from controlplane.apiserver.discovery import (
    aggregated_discovery,
    api_group_list,
    api_resource_list,
    version_info,
)


def test_core_resources_are_listed_by_name_with_short_names_and_subresources() -> None:
    doc = api_resource_list(BUILTIN, "", "v1")
    assert doc is not None and doc["groupVersion"] == "v1"
    names = [r["name"] for r in doc["resources"] if "/" not in r["name"]]
    assert names == sorted(names)
    pods = next(r for r in doc["resources"] if r["name"] == "pods")
    assert (pods["kind"], pods["namespaced"], pods["shortNames"], pods["categories"]) == ("Pod", True, ["po"], ["all"])
    log = next(r for r in doc["resources"] if r["name"] == "pods/log")
    assert log["verbs"] == ["get"]


def test_scale_subresource_reports_the_autoscaling_scale_kind() -> None:
    doc = api_resource_list(BUILTIN, "apps", "v1")
    assert doc is not None
    scale = next(r for r in doc["resources"] if r["name"] == "deployments/scale")
    assert (scale["group"], scale["version"], scale["kind"]) == ("autoscaling", "v1", "Scale")


def test_group_list_has_apps_but_not_the_core_group() -> None:
    groups = [g["name"] for g in api_group_list(BUILTIN)["groups"]]
    assert "apps" in groups and "" not in groups


def test_unknown_group_version_has_no_document() -> None:
    assert api_resource_list(BUILTIN, "batch", "v1") is None


def test_aggregated_discovery_splits_legacy_and_named_groups() -> None:
    legacy = aggregated_discovery(BUILTIN, legacy=True)
    named = aggregated_discovery(BUILTIN, legacy=False)
    assert [i["metadata"]["name"] for i in legacy["items"]] == [""]
    assert "apps" in [i["metadata"]["name"] for i in named["items"]]
    deployments = next(
        r for i in named["items"] if i["metadata"]["name"] == "apps" for r in i["versions"][0]["resources"]
        if r["resource"] == "deployments"
    )
    assert deployments["scope"] == "Namespaced"
    assert {s["subresource"] for s in deployments["subresources"]} == {"status", "scale"}


def test_version_reports_kubernetes_version_and_canopy_build_elsewhere() -> None:
    info = version_info("canopy-abc123", "2026-01-01T00:00:00Z")
    assert info["gitVersion"].startswith("v1.32.") and "canopy" not in info["gitVersion"]
    assert (info["major"], info["minor"]) == ("1", "32")
    assert info["gitCommit"] == "canopy-abc123"
