"""RBAC objects through kubectl: the shared default ClusterRoles, the kinds' printers, and the escalation check."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ApiServer, Kubectl
from tests.integration.support import mint, table_rows_by_name


def test_every_workspace_lists_the_default_cluster_roles(kubectl: Kubectl) -> None:
    rows = table_rows_by_name(kubectl("get", "clusterroles"))
    assert {"cluster-admin", "admin", "edit", "view"} <= set(rows)
    assert rows["view"]["CREATED AT"].endswith("Z")
    described = kubectl("describe", "clusterrole", "view")
    assert "Name:         view" in described
    assert "configmaps" in described
    assert "secrets" not in described  # view never reads Secrets


def test_a_shared_cluster_role_cannot_be_changed_but_can_be_shadowed(kubectl: Kubectl) -> None:
    result = kubectl.run("delete", "clusterrole", "view", check=False)
    assert result.returncode == 1
    assert result.stderr.startswith('Error from server (MethodNotAllowed): clusterroles.rbac.authorization.k8s.io '
                                    '"view" is shared by every workspace and cannot be changed or deleted')
    assert kubectl("create", "clusterrole", "view", "--verb=get", "--resource=pods") == (
        "clusterrole.rbac.authorization.k8s.io/view created\n"
    )
    assert kubectl("get", "clusterrole", "view", "-o", "jsonpath={.rules[*].resources}") == '["pods"]'
    kubectl("delete", "clusterrole", "view")
    assert "configmaps" in kubectl("get", "clusterrole", "view", "-o", "jsonpath={.rules[*].resources}")


def test_rolebindings_print_their_role_and_subjects(kubectl: Kubectl) -> None:
    assert kubectl("create", "rolebinding", "readers", "--clusterrole=view", "--user=carol", "--group=auditors",
                   "--serviceaccount=default:ci") == "rolebinding.rbac.authorization.k8s.io/readers created\n"
    row = table_rows_by_name(kubectl("get", "rolebinding", "-o", "wide"))["readers"]
    assert row["ROLE"] == "ClusterRole/view"
    assert (row["USERS"], row["GROUPS"], row["SERVICEACCOUNTS"]) == ("carol", "auditors", "default/ci")


def test_the_root_workspace_binds_system_masters_to_cluster_admin(apiserver: ApiServer, tmp_path: Path) -> None:
    root = Kubectl(apiserver.kubeconfig_for("root", tmp_path / "root.kubeconfig"), "root")
    out = root("get", "clusterrolebinding", "cluster-admin", "-o", "wide").splitlines()
    assert out[0].split() == ["NAME", "ROLE", "AGE", "USERS", "GROUPS", "SERVICEACCOUNTS"]
    name, role, _, groups = out[1].split()
    assert (name, role, groups) == ("cluster-admin", "ClusterRole/cluster-admin", "system:masters")


def test_a_namespace_admin_cannot_grant_herself_more(kubectl: Kubectl, apiserver: ApiServer, tmp_path: Path) -> None:
    kubectl("create", "rolebinding", "carol-admin", "--clusterrole=admin", "--user=carol")
    carol = mint(apiserver, kubectl.workspace, "carol", tmp_path / "carol.kubeconfig")
    assert carol("create", "rolebinding", "dave-edit", "--clusterrole=edit", "--user=dave") == (
        "rolebinding.rbac.authorization.k8s.io/dave-edit created\n"
    )
    result = carol.run("create", "rolebinding", "carol-root", "--clusterrole=cluster-admin", "--user=carol",
                       check=False)
    assert result.returncode == 1
    assert ('rolebindings.rbac.authorization.k8s.io "carol-root" is forbidden: user "carol" '
            '(groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:') in (
        result.stderr
    )
    assert carol.run("get", "rolebinding", "carol-root", check=False).returncode == 1
