"""How the syncer names downstream namespaces and mirror pods, and how it recognises its own objects."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest

from controlplane.registry.formats import is_dns1123_label, is_dns1123_subdomain, is_valid_label_value
from syncer.translate import (
    CLUSTER_LABEL,
    MANAGED_BY,
    MANAGED_BY_LABEL,
    MANAGED_SELECTOR,
    UPSTREAM_NAME_ANNOTATION,
    UPSTREAM_NAMESPACE_ANNOTATION,
    UPSTREAM_WORKSPACE_ANNOTATION,
    downstream_namespace,
    downstream_pod_name,
    finalizer_cluster,
    is_managed,
    mirror_pod_name,
    syncer_finalizer,
    upstream_locator,
    upstream_of_object,
)


def test_a_downstream_namespace_is_canopy_and_ten_base32_characters() -> None:
    name = downstream_namespace("root:team-a", "default")
    assert re.fullmatch(r"canopy-[a-z2-7]{10}", name)
    assert is_dns1123_label(name) == []


def test_the_downstream_namespace_is_stable() -> None:
    """A restarted syncer, or another cluster's syncer, computes the same name."""
    assert downstream_namespace("root:team-a", "default") == downstream_namespace("root:team-a", "default")
    assert downstream_namespace("root:team-a", "default") == "canopy-dugedskudm"


def test_two_tenants_default_namespaces_never_share_a_downstream_namespace() -> None:
    assert downstream_namespace("root:team-a", "default") != downstream_namespace("root:team-b", "default")


def test_workspace_and_namespace_cannot_be_shifted_into_each_other() -> None:
    """`root:a` + `b-c` and `root:a-b` + `c` are different pairs: the separator is one neither can contain."""
    assert downstream_namespace("root:a", "b-c") != downstream_namespace("root:a-b", "c")
    assert downstream_namespace("root:a:b", "c") != downstream_namespace("root:a", "b:c")


def test_many_tenant_namespaces_get_distinct_valid_names() -> None:
    names = {downstream_namespace(f"root:org-{w}", f"ns-{n}") for w, n in itertools.product(range(100), range(50))}
    assert len(names) == 5000
    assert all(is_dns1123_label(name) == [] for name in names)


def test_a_very_long_workspace_path_still_gives_a_short_label() -> None:
    workspace = "root:" + ":".join(["x" * 63] * 20)
    assert len(downstream_namespace(workspace, "n" * 63)) == 17


def test_a_mirror_pod_is_named_after_the_pod_and_its_cluster() -> None:
    assert mirror_pod_name("web-5d8f7c9b4-x2x9z", "edge-1") == "web-5d8f7c9b4-x2x9z.edge-1"


def test_the_longest_deployment_pod_on_the_longest_cluster_name_is_a_valid_pod_name() -> None:
    name = mirror_pod_name("a" * 63, "b" * 63)
    assert is_dns1123_subdomain(name) == []
    assert is_valid_label_value("b" * 63) == []  # the cluster's name is also the value of its label


def test_a_mirror_name_beyond_253_characters_is_refused() -> None:
    with pytest.raises(ValueError, match="longer than 253"):
        mirror_pod_name("a" * 250, "edge-1")


def test_the_downstream_pod_name_is_recovered_from_the_mirror_name() -> None:
    assert downstream_pod_name("web-5d8f7c9b4-x2x9z.edge-1", "edge-1") == "web-5d8f7c9b4-x2x9z"


def test_a_pod_name_with_dots_survives_the_round_trip() -> None:
    assert downstream_pod_name(mirror_pod_name("db.primary-0", "eu.edge-1"), "eu.edge-1") == "db.primary-0"


@pytest.mark.parametrize("name", ["web-abc.edge-2", "web-abc", ".edge-1", "web-abcedge-1"])
def test_a_name_that_is_not_a_mirror_of_this_cluster_gives_none(name: str) -> None:
    assert downstream_pod_name(name, "edge-1") is None


def test_the_managed_selector_matches_the_managed_label() -> None:
    assert MANAGED_SELECTOR == "workload.canopy.dev/managed-by=canopy-syncer"
    assert (MANAGED_BY_LABEL, MANAGED_BY) == ("workload.canopy.dev/managed-by", "canopy-syncer")


def test_only_objects_with_the_managed_label_are_the_syncers() -> None:
    assert is_managed({"metadata": {"labels": {MANAGED_BY_LABEL: MANAGED_BY}}})
    assert not is_managed({"metadata": {"labels": {"app.kubernetes.io/managed-by": "canopy-syncer"}}})
    assert not is_managed({"metadata": {"labels": {MANAGED_BY_LABEL: "Helm"}}})
    assert not is_managed({"metadata": {"name": "kube-root-ca.crt"}})
    assert not is_managed({})


def _namespace(**annotations: str) -> dict[str, Any]:
    return {"metadata": {"name": "canopy-dugedskudm", "labels": {MANAGED_BY_LABEL: MANAGED_BY, CLUSTER_LABEL: "edge-1"},
                         "annotations": annotations}}


def test_a_managed_namespace_says_which_tenant_namespace_it_is() -> None:
    ns = _namespace(**{UPSTREAM_WORKSPACE_ANNOTATION: "root:team-a", UPSTREAM_NAMESPACE_ANNOTATION: "default"})
    assert upstream_locator(ns) == ("root:team-a", "default")


def test_a_namespace_the_syncer_did_not_make_locates_nothing() -> None:
    ns = _namespace(**{UPSTREAM_WORKSPACE_ANNOTATION: "root:team-a", UPSTREAM_NAMESPACE_ANNOTATION: "default"})
    ns["metadata"]["labels"] = {}
    assert upstream_locator(ns) is None
    assert upstream_locator({"metadata": {"name": "kube-system"}}) is None
    assert upstream_locator(_namespace(**{UPSTREAM_WORKSPACE_ANNOTATION: "root:team-a"})) is None


def test_a_managed_object_names_its_upstream_object() -> None:
    obj = _namespace(**{UPSTREAM_WORKSPACE_ANNOTATION: "root:team-a", UPSTREAM_NAMESPACE_ANNOTATION: "default",
                        UPSTREAM_NAME_ANNOTATION: "web"})
    assert upstream_of_object(obj) == ("root:team-a", "default", "web")
    assert upstream_of_object(_namespace(**{UPSTREAM_WORKSPACE_ANNOTATION: "root:team-a",
                                            UPSTREAM_NAMESPACE_ANNOTATION: "default"})) is None


def test_a_syncers_finalizer_names_its_cluster_and_no_other_finalizer_does() -> None:
    assert syncer_finalizer("edge-1") == "workload.canopy.dev/syncer-edge-1"
    assert finalizer_cluster(syncer_finalizer("edge-1")) == "edge-1"
    assert finalizer_cluster("workload.canopy.dev/syncer-") is None
    assert finalizer_cluster("foregroundDeletion") is None
    assert finalizer_cluster("example.com/syncer-edge-1") is None
