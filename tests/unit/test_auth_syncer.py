"""A syncer's rights: its own Cluster in root, and syncing the workspaces its Cluster serves; nothing else."""

from __future__ import annotations

import pytest

from controlplane.auth.rbac import Attributes, UserInfo
from controlplane.auth.syncer import SYNCERS_GROUP, decide, denial, syncer_cluster, syncer_user

SYNCER = UserInfo(syncer_user("edge-1"), (SYNCERS_GROUP, "system:authenticated"))
SERVED = {"root:team-a"}


def req(verb: str, group: str, resource: str, *, sub: str = "", ns: str = "", name: str = "") -> Attributes:
    return Attributes(SYNCER, verb, True, group, resource, sub, ns, name)


def test_only_a_syncer_identity_is_one() -> None:
    assert syncer_cluster(SYNCER) == "edge-1"
    assert syncer_cluster(UserInfo("system:syncer:edge-1")) == "", "the group is needed too"
    assert syncer_cluster(UserInfo("alice", (SYNCERS_GROUP,))) == ""


@pytest.mark.parametrize(("attrs", "allowed"), [
    (req("get", "workload.canopy.dev", "clusters", name="edge-1"), True),
    (req("patch", "workload.canopy.dev", "clusters", sub="status", name="edge-1"), True),
    (req("get", "workload.canopy.dev", "clusters", name="edge-2"), False),
    (req("patch", "workload.canopy.dev", "clusters", sub="status", name="edge-2"), False),
    (req("list", "workload.canopy.dev", "clusters"), False),
    (req("update", "workload.canopy.dev", "clusters", name="edge-1"), False),
    (req("list", "tenancy.canopy.dev", "accesstokens"), False),
    (req("get", "", "secrets", ns="default", name="x"), False),
])
def test_in_root_only_its_own_cluster(attrs: Attributes, allowed: bool) -> None:
    assert decide("edge-1", "root", attrs, SERVED) is allowed


@pytest.mark.parametrize(("attrs", "allowed"), [
    (req("watch", "apps", "deployments"), True),
    (req("patch", "apps", "deployments", ns="default", name="web"), True),
    (req("update", "apps", "deployments", sub="status", ns="default", name="web"), True),
    (req("delete", "apps", "deployments", ns="default", name="web"), False),
    (req("create", "apps", "deployments", ns="default"), False),
    (req("get", "", "secrets", ns="default", name="db"), True),
    (req("create", "", "secrets", ns="default"), False),
    (req("create", "", "pods", ns="default"), True),
    (req("update", "", "pods", sub="status", ns="default", name="p"), True),
    (req("create", "", "pods", sub="binding", ns="default", name="p"), True),
    (req("update", "", "pods", sub="binding", ns="default", name="p"), False),
    (req("create", "", "events", ns="default"), True),
    (req("list", "workload.canopy.dev", "placements"), True),
    (req("create", "rbac.authorization.k8s.io", "rolebindings", ns="default"), False),
    (req("get", "", "pods", sub="log", ns="default", name="p"), False),
])
def test_in_a_served_workspace_what_syncing_needs(attrs: Attributes, allowed: bool) -> None:
    assert decide("edge-1", "root:team-a", attrs, SERVED) is allowed


def test_nothing_in_a_workspace_it_does_not_serve_not_even_discovery() -> None:
    assert not decide("edge-1", "root:team-b", req("list", "apps", "deployments"), SERVED)
    assert not decide("edge-1", "root:team-b", Attributes(SYNCER, "get", False, path="/apis"), SERVED)
    assert decide("edge-1", "root:team-a", Attributes(SYNCER, "get", False, path="/apis"), SERVED)


def test_the_denial_says_what_a_syncer_may_do() -> None:
    message = denial("edge-1", "root:team-b", req("list", "apps", "deployments"))
    assert message.startswith('User "system:syncer:edge-1" cannot list deployments in workspace "root:team-b"')
    assert "status.workspaces" in message
