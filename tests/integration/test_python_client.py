"""The official `kubernetes` Python client against Canopy: CRUD, paging, watches, conflicts and 410 relists."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

from tests.conftest import ApiServer, Etcd, Kubectl, start_apiserver, stop_apiserver
from tests.integration.support import http, workspace_url

NS = "default"


def api_client_for(kubeconfig: Path) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(kubeconfig))


@pytest.fixture
def api(kubectl: Kubectl) -> Iterator[client.ApiClient]:
    api_client = api_client_for(kubectl.kubeconfig)
    try:
        yield api_client
    finally:
        api_client.close()


@pytest.fixture
def core(api: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api)


@pytest.fixture
def apps(api: client.ApiClient) -> client.AppsV1Api:
    return client.AppsV1Api(api)


def cm(name: str, **data: str) -> client.V1ConfigMap:
    return client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name), data=data or None)


def error_body(exc: ApiException) -> dict:
    return json.loads(exc.body)


def test_configmap_create_read_update_patch_delete(core: client.CoreV1Api) -> None:
    created = core.create_namespaced_config_map(NS, cm("settings", color="blue"))
    assert created.metadata.name == "settings"
    assert created.metadata.namespace == NS
    assert created.metadata.uid and created.metadata.resource_version and created.metadata.creation_timestamp

    read = core.read_namespaced_config_map("settings", NS)
    assert read.data == {"color": "blue"}
    assert read.metadata.uid == created.metadata.uid

    read.data["size"] = "L"
    replaced = core.replace_namespaced_config_map("settings", NS, read)
    assert replaced.data == {"color": "blue", "size": "L"}
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)

    patched = core.patch_namespaced_config_map("settings", NS, {"data": {"color": "green"}})
    assert patched.data == {"color": "green", "size": "L"}

    listed = core.list_namespaced_config_map(NS)
    assert "settings" in [item.metadata.name for item in listed.items]
    assert listed.metadata.resource_version

    status = core.delete_namespaced_config_map("settings", NS)  # typed `object`: the client hands back a dict
    assert (status["kind"], status["status"]) == ("Status", "Success")
    assert status["details"]["name"] == "settings" and status["details"]["uid"] == created.metadata.uid
    with pytest.raises(ApiException) as err:
        core.read_namespaced_config_map("settings", NS)
    assert err.value.status == 404
    body = error_body(err.value)
    assert (body["reason"], body["message"]) == ("NotFound", 'configmaps "settings" not found')
    assert body["details"] == {"name": "settings", "kind": "configmaps"}


def test_delete_returns_a_success_status_naming_the_object(core: client.CoreV1Api) -> None:
    uid = core.create_namespaced_config_map(NS, cm("settings")).metadata.uid
    status = core.delete_namespaced_config_map("settings", NS)
    assert status == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                      "details": {"name": "settings", "kind": "configmaps", "uid": uid}}


def test_deleting_a_service_or_service_account_returns_the_deleted_object(core: client.CoreV1Api) -> None:
    # As kube-apiserver answers for these kinds; the client deserializes the answer as a V1Service /
    # V1ServiceAccount and fails on a Status.
    core.create_namespaced_service(NS, {"metadata": {"name": "web"},
                                        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})
    core.create_namespaced_service_account(NS, {"metadata": {"name": "robot"}})
    service = core.delete_namespaced_service("web", NS)
    account = core.delete_namespaced_service_account("robot", NS)
    assert isinstance(service, client.V1Service) and service.metadata.name == "web"
    assert service.spec.ports[0].port == 80
    assert isinstance(account, client.V1ServiceAccount) and account.metadata.name == "robot"


def test_create_duplicate_is_409_already_exists(core: client.CoreV1Api) -> None:
    core.create_namespaced_config_map(NS, cm("settings"))
    with pytest.raises(ApiException) as err:
        core.create_namespaced_config_map(NS, cm("settings"))
    assert err.value.status == 409
    body = error_body(err.value)
    assert (body["reason"], body["message"]) == ("AlreadyExists", 'configmaps "settings" already exists')


def test_deployment_crud_through_apps_api(apps: client.AppsV1Api) -> None:
    body = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="web", labels={"app": "web"}),
        spec=client.V1DeploymentSpec(
            selector=client.V1LabelSelector(match_labels={"app": "web"}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "web"}),
                spec=client.V1PodSpec(containers=[client.V1Container(name="web", image="nginx:1.25")]),
            ),
        ),
    )
    created = apps.create_namespaced_deployment(NS, body)
    assert created.spec.replicas == 1
    assert created.metadata.generation == 1

    scaled = apps.patch_namespaced_deployment_scale("web", NS, {"spec": {"replicas": 3}})
    assert scaled.spec.replicas == 3
    assert scaled.status.selector == "app=web"
    assert apps.read_namespaced_deployment_scale("web", NS).spec.replicas == 3
    assert apps.read_namespaced_deployment("web", NS).metadata.generation == 2

    status = apps.patch_namespaced_deployment_status("web", NS, {"status": {"replicas": 3, "readyReplicas": 2}})
    assert status.status.ready_replicas == 2
    assert status.metadata.generation == 2

    assert [d.metadata.name for d in apps.list_namespaced_deployment(NS).items] == ["web"]
    apps.delete_namespaced_deployment("web", NS)
    assert apps.list_namespaced_deployment(NS).items == []


def test_list_pagination_sees_every_object_exactly_once(core: client.CoreV1Api) -> None:
    expected = [f"cm-{i:02d}" for i in range(30)]
    for name in expected:
        core.create_namespaced_config_map(NS, cm(name, i=name))
    seen: list[str] = []
    page_sizes: list[int] = []
    resource_versions: set[str] = set()
    token: str | None = None
    while True:
        kwargs = {"_continue": token} if token else {}
        page = core.list_namespaced_config_map(NS, limit=7, **kwargs)
        if not page_sizes:
            # Created after the first page: a paged list is one snapshot, so it must not show up.
            core.create_namespaced_config_map(NS, cm("zz-late"))
        page_sizes.append(len(page.items))
        seen.extend(item.metadata.name for item in page.items)
        resource_versions.add(page.metadata.resource_version)
        token = page.metadata._continue
        if not token:
            break
        assert len(page.items) == 7
    ours = [name for name in seen if name.startswith(("cm-", "zz-"))]
    assert ours == expected
    assert len(seen) == len(set(seen))
    assert len(page_sizes) >= 5
    assert len(resource_versions) == 1, "every page of one list is read at the same resourceVersion"
    assert "zz-late" in [item.metadata.name for item in core.list_namespaced_config_map(NS).items]


def test_list_with_label_selector_filters_on_the_server(core: client.CoreV1Api) -> None:
    for i in range(6):
        body = cm(f"cm-{i}")
        body.metadata.labels = {"parity": "even" if i % 2 == 0 else "odd"}
        core.create_namespaced_config_map(NS, body)
    even = core.list_namespaced_config_map(NS, label_selector="parity=even")
    assert [item.metadata.name for item in even.items] == ["cm-0", "cm-2", "cm-4"]
    odd_names = core.list_namespaced_config_map(NS, field_selector="metadata.name=cm-3")
    assert [item.metadata.name for item in odd_names.items] == ["cm-3"]


def test_list_at_an_exact_resource_version_shows_the_past(core: client.CoreV1Api) -> None:
    core.create_namespaced_config_map(NS, cm("a", v="1"))
    then = core.list_namespaced_config_map(NS).metadata.resource_version
    core.patch_namespaced_config_map("a", NS, {"data": {"v": "2"}})
    core.create_namespaced_config_map(NS, cm("b", v="1"))

    past = core.list_namespaced_config_map(NS, resource_version=then, resource_version_match="Exact")
    assert past.metadata.resource_version == then
    assert [(i.metadata.name, i.data["v"]) for i in past.items] == [("a", "1")]
    now = core.list_namespaced_config_map(NS, resource_version=then, resource_version_match="NotOlderThan")
    assert [(i.metadata.name, i.data["v"]) for i in now.items] == [("a", "2"), ("b", "1")]
    assert int(now.metadata.resource_version) > int(then)


def test_invalid_continue_token_is_400(core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as err:
        core.list_namespaced_config_map(NS, limit=2, _continue="not-a-token")
    assert err.value.status == 400
    assert error_body(err.value)["reason"] == "BadRequest"


def test_watch_from_resource_version_receives_only_later_events(core: client.CoreV1Api) -> None:
    first = core.create_namespaced_config_map(NS, cm("a", v="1"))
    start = first.metadata.resource_version
    core.patch_namespaced_config_map("a", NS, {"data": {"v": "2"}})
    core.create_namespaced_config_map(NS, cm("b", v="1"))
    core.delete_namespaced_config_map("a", NS)

    events = []
    w = watch.Watch()
    for event in w.stream(core.list_namespaced_config_map, NS, resource_version=start, timeout_seconds=10):
        events.append((event["type"], event["object"].metadata.name, (event["object"].data or {}).get("v"),
                       event["object"].metadata.resource_version))
        if len(events) == 3:
            w.stop()
    assert [e[:3] for e in events] == [("MODIFIED", "a", "2"), ("ADDED", "b", "1"), ("DELETED", "a", "2")]
    revisions = [int(e[3]) for e in events]
    assert revisions == sorted(revisions) and revisions[0] > int(start)

    # Resuming from the second event's resourceVersion yields only the third.
    resumed = []
    w = watch.Watch()
    for event in w.stream(core.list_namespaced_config_map, NS, resource_version=events[1][3], timeout_seconds=10):
        resumed.append((event["type"], event["object"].metadata.name))
        w.stop()
    assert resumed == [("DELETED", "a")]


def test_watch_without_resource_version_starts_with_existing_objects(core: client.CoreV1Api) -> None:
    core.create_namespaced_config_map(NS, cm("existing"))
    w = watch.Watch()
    events = []
    for event in w.stream(core.list_namespaced_config_map, NS, timeout_seconds=10):
        events.append((event["type"], event["object"].metadata.name))
        if event["object"].metadata.name == "existing" and len(events) == 1:
            core.create_namespaced_config_map(NS, cm("new"))
        if event["object"].metadata.name == "new":
            w.stop()
    assert events[0] == ("ADDED", "existing")
    assert events[-1] == ("ADDED", "new")


def test_replace_with_stale_resource_version_is_409_conflict(core: client.CoreV1Api) -> None:
    core.create_namespaced_config_map(NS, cm("settings", v="1"))
    stale = core.read_namespaced_config_map("settings", NS)
    fresh = core.read_namespaced_config_map("settings", NS)
    fresh.data = {"v": "2"}
    core.replace_namespaced_config_map("settings", NS, fresh)

    stale.data = {"v": "stale"}
    with pytest.raises(ApiException) as err:
        core.replace_namespaced_config_map("settings", NS, stale)
    assert err.value.status == 409
    assert err.value.reason == "Conflict"
    body = error_body(err.value)
    assert body["reason"] == "Conflict"
    assert body["message"] == (
        'Operation cannot be fulfilled on configmaps "settings": the object has been modified; please apply your '
        "changes to the latest version and try again"
    )
    assert core.read_namespaced_config_map("settings", NS).data == {"v": "2"}


def test_delete_with_stale_resource_version_precondition_is_409(core: client.CoreV1Api) -> None:
    created = core.create_namespaced_config_map(NS, cm("settings", v="1"))
    core.patch_namespaced_config_map("settings", NS, {"data": {"v": "2"}})
    with pytest.raises(ApiException) as err:
        core.delete_namespaced_config_map(
            "settings", NS, body=client.V1DeleteOptions(
                preconditions=client.V1Preconditions(resource_version=created.metadata.resource_version)
            ),
        )
    assert err.value.status == 409
    assert error_body(err.value)["reason"] == "Conflict"
    assert core.read_namespaced_config_map("settings", NS).data == {"v": "2"}


# ---- 410 Expired: a server keeping a small watch history --------------------------------------------------------

@pytest.fixture(scope="module")
def small_history_server(etcd: Etcd, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    server = start_apiserver(tmp_path_factory.mktemp("small-history"), etcd.url, "--watch-cache-size=5")
    try:
        yield server
    finally:
        stop_apiserver(server)


def test_watch_from_too_old_resource_version_is_410_then_relist_works(
    small_history_server: ApiServer, tmp_path: Path
) -> None:
    workspace = small_history_server.new_workspace()
    api_client = api_client_for(small_history_server.kubeconfig_for(workspace, tmp_path / "kubeconfig"))
    core = client.CoreV1Api(api_client)
    try:
        old = core.create_namespaced_config_map(NS, cm("busy", n="0")).metadata.resource_version
        for i in range(1, 12):
            core.patch_namespaced_config_map("busy", NS, {"data": {"n": str(i)}})

        with pytest.raises(ApiException) as err:
            for _ in watch.Watch().stream(core.list_namespaced_config_map, NS, resource_version=old,
                                          timeout_seconds=5):
                pytest.fail("no event may be delivered from a resourceVersion outside the history")
        assert err.value.status == 410
        assert err.value.reason.startswith(f"Expired: too old resource version: {old} ("), err.value.reason

        # Raw: the watch answers 200 and one ERROR event carrying a 410 Expired Status.
        url = f"{workspace_url(small_history_server, workspace)}/api/v1/namespaces/{NS}/configmaps"
        status, body, _ = http("GET", f"{url}?watch=true&resourceVersion={old}&timeoutSeconds=5")
        assert status == 200
        assert body["type"] == "ERROR"
        assert {k: body["object"][k] for k in ("kind", "status", "reason", "code")} == {
            "kind": "Status", "status": "Failure", "reason": "Expired", "code": 410,
        }

        # The client's recovery: relist, then watch from the list's resourceVersion.
        listed = core.list_namespaced_config_map(NS)
        assert [(i.metadata.name, i.data["n"]) for i in listed.items] == [("busy", "11")]
        w = watch.Watch()
        core.patch_namespaced_config_map("busy", NS, {"data": {"n": "12"}})
        events = []
        for event in w.stream(core.list_namespaced_config_map, NS, resource_version=listed.metadata.resource_version,
                              timeout_seconds=10):
            events.append((event["type"], event["object"].data["n"]))
            w.stop()
        assert events == [("MODIFIED", "12")]
    finally:
        api_client.close()
