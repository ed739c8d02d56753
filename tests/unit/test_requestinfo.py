import pytest

from controlplane.apiserver.requestinfo import BadWorkspace, request_info, split_workspace


def test_unprefixed_paths_go_to_root() -> None:
    assert split_workspace("/api/v1/pods") == ("root", "/api/v1/pods")


def test_workspace_prefix_is_stripped() -> None:
    assert split_workspace("/clusters/root:org:team/apis/apps/v1") == ("root:org:team", "/apis/apps/v1")


@pytest.mark.parametrize("bad", ["team-a", "root:Team", "root::x", "root:-x", "other:root"])
def test_invalid_workspace_paths_are_refused(bad: str) -> None:
    with pytest.raises(BadWorkspace):
        split_workspace(f"/clusters/{bad}/api")


@pytest.mark.parametrize(
    ("method", "path", "query", "expected"),
    [
        ("GET", "/api/v1/namespaces/default/pods", {}, ("list", "", "default", "pods", "", "")),
        ("GET", "/api/v1/namespaces/default/pods", {"watch": "true"}, ("watch", "", "default", "pods", "", "")),
        ("GET", "/api/v1/pods", {}, ("list", "", "", "pods", "", "")),
        ("GET", "/api/v1/namespaces/default", {}, ("get", "", "", "namespaces", "default", "")),
        ("PUT", "/api/v1/namespaces/x/finalize", {}, ("update", "", "", "namespaces", "x", "finalize")),
        ("POST", "/apis/apps/v1/namespaces/a/deployments", {}, ("create", "apps", "a", "deployments", "", "")),
        ("PATCH", "/apis/apps/v1/namespaces/a/deployments/d/scale", {},
         ("patch", "apps", "a", "deployments", "d", "scale")),
        ("DELETE", "/api/v1/namespaces/a/configmaps", {}, ("deletecollection", "", "a", "configmaps", "", "")),
        ("GET", "/api/v1/watch/namespaces/a/pods", {}, ("watch", "", "a", "pods", "", "")),
        ("GET", "/api/v1/namespaces/a/pods/p/log", {}, ("get", "", "a", "pods", "p", "log")),
    ],
)
def test_resource_requests(method: str, path: str, query: dict[str, str], expected: tuple[str, ...]) -> None:
    info = request_info(method, "/clusters/root:t" + path, query)
    assert info.is_resource
    assert info.workspace == "root:t"
    assert (info.verb, info.group, info.namespace, info.resource, info.name, info.subresource) == expected


@pytest.mark.parametrize("path", ["/version", "/healthz", "/api", "/api/v1", "/apis", "/apis/apps", "/apis/apps/v1",
                                  "/openapi/v3/apis/apps/v1"])
def test_non_resource_requests(path: str) -> None:
    assert not request_info("GET", path, {}).is_resource
