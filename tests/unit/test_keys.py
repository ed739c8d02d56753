from controlplane.storage.keys import ObjectKey, object_key, parse_key, resource_prefix, workspace_prefix


def test_namespaced_key_round_trips() -> None:
    key = object_key("root:team-a", "apps", "deployments", "default", "nginx")
    assert key == "/registry/root:team-a/apps/deployments/default/nginx"
    assert parse_key(key) == ObjectKey("root:team-a", "apps", "deployments", "default", "nginx")


def test_core_group_is_spelled_core_in_etcd_and_empty_in_the_api() -> None:
    key = object_key("root", "", "namespaces", "", "kube-system")
    assert key == "/registry/root/core/namespaces/kube-system"
    assert parse_key(key) == ObjectKey("root", "", "namespaces", "", "kube-system")


def test_workspace_prefix_does_not_cover_a_sibling_with_a_longer_name() -> None:
    assert not object_key("root:team-ab", "", "configmaps", "default", "x").startswith(workspace_prefix("root:team-a"))


def test_namespace_prefix_does_not_cover_a_namespace_with_a_longer_name() -> None:
    other = object_key("root", "", "configmaps", "default-2", "x")
    assert not other.startswith(resource_prefix("root", "", "configmaps", "default"))


def test_keys_outside_the_layout_are_ignored() -> None:
    assert parse_key("/other/x") is None
    assert parse_key("/registry/root/core") is None
    assert parse_key("/registry/root//pods/ns/x") is None
