"""Isolation between workspaces, and several server processes sharing one etcd."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ApiServer, Etcd, Kubectl, start_apiserver, stop_apiserver
from tests.integration.support import (
    admin_tls,
    cells,
    configmap,
    create_configmap,
    create_deployment,
    create_namespace,
    http,
    kubectl_stream,
    to_yaml,
    workspace_url,
)


@pytest.fixture
def other(apiserver: ApiServer, tmp_path: Path) -> Kubectl:
    """kubectl for a second workspace on the same server."""
    workspace = apiserver.new_workspace()
    return Kubectl(apiserver.kubeconfig_for(workspace, tmp_path / "other.kubeconfig"), workspace)


@pytest.fixture(scope="module")
def second_server(etcd: Etcd, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    """Another `canopy server` process on the session's etcd, with its own data dir and watch cache."""
    server = start_apiserver(tmp_path_factory.mktemp("second-server"), etcd.url)
    try:
        yield server
    finally:
        stop_apiserver(server)


def test_same_name_in_two_workspaces_are_independent_objects(kubectl: Kubectl, other: Kubectl) -> None:
    create_configmap(kubectl, "same", owner="a")
    create_configmap(other, "same", owner="b")
    assert kubectl("get", "cm", "same", "-o", "jsonpath={.data.owner}") == "a"
    assert other("get", "cm", "same", "-o", "jsonpath={.data.owner}") == "b"
    uid_a = kubectl("get", "cm", "same", "-o", "jsonpath={.metadata.uid}")
    uid_b = other("get", "cm", "same", "-o", "jsonpath={.metadata.uid}")
    assert uid_a != uid_b

    assert other("delete", "cm", "same") == 'configmap "same" deleted\n'
    assert kubectl("get", "cm", "same", "-o", "jsonpath={.data.owner}") == "a"


def test_namespaces_belong_to_one_workspace(kubectl: Kubectl, other: Kubectl) -> None:
    create_namespace(kubectl, "only-here")
    result = other.run("get", "ns", "only-here", check=False)
    assert result.stderr == 'Error from server (NotFound): namespaces "only-here" not found\n'
    result = other.run("create", "-n", "only-here", "-f", "-", input=to_yaml(configmap("x")), check=False)
    assert result.returncode == 1
    assert 'namespaces "only-here" not found' in result.stderr


def test_lists_show_only_the_workspace_own_objects(kubectl: Kubectl, other: Kubectl) -> None:
    create_deployment(kubectl, "mine")
    create_deployment(other, "theirs")
    assert kubectl("get", "deploy", "-A", "-o", "name") == "deployment.apps/mine\n"
    assert other("get", "deploy", "-A", "-o", "name") == "deployment.apps/theirs\n"


def test_watch_in_one_workspace_never_sees_the_other(kubectl: Kubectl, other: Kubectl) -> None:
    create_configmap(kubectl, "same", owner="a")
    create_configmap(other, "same", owner="b")
    with kubectl_stream(kubectl, "get", "cm", "-w", "--output-watch-events", "-L", "changed") as watch:
        assert cells(watch.expect(lambda line: line.startswith("EVENT"))) == ["EVENT", "NAME", "DATA", "AGE",
                                                                             "CHANGED"]
        watch.expect(lambda line: cells(line)[:2] == ["ADDED", "same"])
        # A change in the other workspace first, then one here: only the latter may arrive.
        other("label", "cm", "same", "changed=b")
        create_configmap(other, "other-only")
        kubectl("label", "cm", "same", "changed=a")
        line = watch.expect(lambda line: cells(line)[0] != "ADDED" or "other-only" in line)
        assert cells(line)[:2] == ["MODIFIED", "same"]
        assert cells(line)[-1] == "a"
    assert not any("other-only" in line for line in watch.seen_stdout)


def test_raw_watch_in_one_workspace_never_sees_the_other(apiserver: ApiServer, kubectl: Kubectl,
                                                         other: Kubectl) -> None:
    create_configmap(kubectl, "same", owner="a")
    create_configmap(other, "same", owner="b")
    url = f"{workspace_url(apiserver, kubectl.workspace)}/api/v1/namespaces/default/configmaps"
    status, listed, _ = http("GET", url)
    assert status == 200
    start = listed["metadata"]["resourceVersion"]
    other("label", "cm", "same", "changed=b")
    create_configmap(other, "other-only")
    kubectl("label", "cm", "same", "changed=a")
    # Watching from before all three changes: the first event must be ours.
    watch = f"{url}?watch=true&resourceVersion={start}&timeoutSeconds=30"
    with urllib.request.urlopen(watch, timeout=30, context=admin_tls(url)) as resp:
        assert resp.status == 200
        event = json.loads(resp.readline())
    assert event["type"] == "MODIFIED"
    assert event["object"]["metadata"]["name"] == "same"
    assert event["object"]["metadata"]["labels"] == {"changed": "a"}
    assert event["object"]["data"] == {"owner": "a"}


def test_write_through_one_server_is_read_and_watched_through_another(
    kubectl: Kubectl, second_server: ApiServer, tmp_path: Path
) -> None:
    via_b = Kubectl(second_server.kubeconfig_for(kubectl.workspace, tmp_path / "b.kubeconfig"), kubectl.workspace)
    # Read-your-writes across processes: no polling.
    create_configmap(kubectl, "marker", k="1")
    assert via_b("get", "cm", "marker", "-o", "jsonpath={.data.k}") == "1"

    with kubectl_stream(via_b, "get", "cm", "-w", "--output-watch-events") as watch:
        watch.expect(lambda line: cells(line)[:2] == ["ADDED", "marker"])
        create_configmap(kubectl, "shared", k="1")
        assert cells(watch.expect(lambda line: "shared" in line))[:3] == ["ADDED", "shared", "1"]
        kubectl("patch", "cm", "shared", "--type=merge", "-p", '{"data":{"j":"2"}}')
        assert cells(watch.expect(lambda line: "shared" in line))[:3] == ["MODIFIED", "shared", "2"]
        kubectl("delete", "cm", "shared")
        assert cells(watch.expect(lambda line: "shared" in line))[:2] == ["DELETED", "shared"]

    # And the other way round, for updates as well.
    via_b("patch", "cm", "marker", "--type=merge", "-p", '{"data":{"k":"2"}}')
    assert kubectl("get", "cm", "marker", "-o", "jsonpath={.data.k}") == "2"
    via_b("delete", "cm", "marker")
    assert kubectl.run("get", "cm", "marker", check=False).stderr == (
        'Error from server (NotFound): configmaps "marker" not found\n'
    )


def test_conflicting_writes_through_two_servers_are_serialised(
    apiserver: ApiServer, kubectl: Kubectl, second_server: ApiServer
) -> None:
    url = "/api/v1/namespaces/default/configmaps"
    base_a, base_b = workspace_url(apiserver, kubectl.workspace), workspace_url(second_server, kubectl.workspace)
    status, created, _ = http("POST", base_a + url, {"apiVersion": "v1", "kind": "ConfigMap",
                                                     "metadata": {"name": "counter"}, "data": {"n": "0"}})
    assert status == 201
    rv = created["metadata"]["resourceVersion"]
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "counter", "resourceVersion": rv}}
    status_a, _, _ = http("PUT", f"{base_a}{url}/counter", {**body, "data": {"n": "a"}})
    status_b, reply_b, _ = http("PUT", f"{base_b}{url}/counter", {**body, "data": {"n": "b"}})
    assert (status_a, status_b) == (200, 409), reply_b
    assert reply_b["reason"] == "Conflict"
    assert http("GET", f"{base_b}{url}/counter")[1]["data"] == {"n": "a"}
