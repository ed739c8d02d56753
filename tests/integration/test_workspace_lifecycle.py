"""Workspaces as objects: a Workspace in a parent makes a child cluster; deleting it leaves nothing in etcd."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from controlplane.storage.keys import ROOT
from tests.conftest import ApiServer, Etcd, Kubectl
from tests.integration.support import etcd_keys, eventually, mint, table_rows_by_name


def workspace(name: str) -> str:
    body = {"apiVersion": "tenancy.canopy.dev/v1alpha1", "kind": "Workspace", "metadata": {"name": name}}
    return yaml.safe_dump(body)


def in_workspace(apiserver: ApiServer, ws: str, tmp_path: Path) -> Kubectl:
    return Kubectl(apiserver.kubeconfig_for(ws, tmp_path / f"{ws}.kubeconfig"), ws)


def test_a_workspace_object_makes_a_ready_child_cluster_with_its_url(
    kubectl: Kubectl, apiserver: ApiServer, tmp_path: Path
) -> None:
    assert kubectl("apply", "-f", "-", input=workspace("team-a")) == "workspace.tenancy.canopy.dev/team-a created\n"
    child = f"{kubectl.workspace}:team-a"
    row = eventually(lambda: (r := table_rows_by_name(kubectl("get", "ws")).get("team-a")) and
                     r["PHASE"] == "Ready" and r, what="workspace Ready")
    assert row["URL"] == f"{apiserver.url}/clusters/{child}"

    team = in_workspace(apiserver, child, tmp_path)
    assert "default" in table_rows_by_name(team("get", "ns"))
    team("create", "configmap", "settings", "--from-literal=a=b")
    assert kubectl.run("get", "cm", "settings", check=False).returncode == 1  # the parent does not see it


def test_deleting_a_workspace_deletes_it_and_its_children_from_etcd(
    kubectl: Kubectl, apiserver: ApiServer, etcd: Etcd, tmp_path: Path
) -> None:
    kubectl("apply", "-f", "-", input=workspace("team-a"))
    child = f"{kubectl.workspace}:team-a"
    eventually(lambda: json.loads(kubectl("get", "ws", "team-a", "-o", "json")).get("status", {}).get("phase")
               == "Ready", what="workspace Ready")
    team = in_workspace(apiserver, child, tmp_path)
    team("create", "configmap", "settings", "--from-literal=a=b")
    team("apply", "-f", "-", input=workspace("sub"))
    grandchild = f"{child}:sub"
    eventually(lambda: json.loads(team("get", "ws", "sub", "-o", "json")).get("status", {}).get("phase")
               == "Ready", what="nested workspace Ready")
    in_workspace(apiserver, grandchild, tmp_path)("create", "configmap", "deep", "--from-literal=a=b")
    assert etcd_keys(etcd, f"{ROOT}{child}/") and etcd_keys(etcd, f"{ROOT}{grandchild}/")

    assert kubectl("delete", "ws", "team-a") == 'workspace.tenancy.canopy.dev "team-a" deleted\n'

    eventually(lambda: kubectl.run("get", "ws", "team-a", check=False).returncode == 1, what="workspace gone")
    assert etcd_keys(etcd, f"{ROOT}{child}/") == []
    assert etcd_keys(etcd, f"{ROOT}{child}:") == []
    assert etcd_keys(etcd, f"{ROOT}{kubectl.workspace}/")  # the parent is untouched


def test_a_tenant_owns_the_workspaces_she_creates_and_cannot_name_another_owner(
    kubectl: Kubectl, apiserver: ApiServer, tmp_path: Path
) -> None:
    kubectl("create", "clusterrolebinding", "alice-admin", "--clusterrole=cluster-admin", "--user=alice")
    alice = mint(apiserver, kubectl.workspace, "alice", tmp_path / "alice.kubeconfig")
    body = yaml.safe_load(workspace("sub"))
    body["metadata"]["annotations"] = {"tenancy.canopy.dev/owner": "mallory"}
    alice("apply", "-f", "-", input=yaml.safe_dump(body))
    eventually(lambda: json.loads(alice("get", "ws", "sub", "-o", "json")).get("status", {}).get("phase")
               == "Ready", what="workspace Ready")
    assert alice("get", "ws", "sub", "-o", "jsonpath={.metadata.annotations.tenancy\\.canopy\\.dev/owner}") == "alice"

    child = f"{kubectl.workspace}:sub"
    in_child = mint(apiserver, child, "alice", tmp_path / "alice-child.kubeconfig")
    assert "default" in table_rows_by_name(in_child("get", "ns"))
    assert in_child("auth", "can-i", "create", "rolebindings").strip() == "yes"
    mallory = mint(apiserver, child, "mallory", tmp_path / "mallory.kubeconfig")
    denied = mallory.run("get", "--raw", "/api/v1/namespaces/default/configmaps", check=False)
    assert "Forbidden" in denied.stderr
