"""A container's environment and ConfigMap/Secret volumes, as the kubelet assembles them before a start.

Expected wording is the kubelet's (1.32): `makeEnvironmentVariables` in kubelet_pods.go, the watch-based
ConfigMap/Secret managers (`configmap "x" not found`, `secret "x" not found`), the configmap/secret/projected
volume plugins' MakePayload and the `MountVolume.SetUp failed for volume ...` event.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from simcluster.podconfig import ConfigError, Lookup, expand, resolve_env, volume_errors

POD: dict[str, Any] = {
    "metadata": {"name": "api-5f7d8-abcde", "namespace": "shop", "uid": "0b9e-11aa",
                 "labels": {"app": "api", "tier": "backend"}, "annotations": {"team": "payments"}},
    "spec": {"nodeName": "edge-1-agent-0", "serviceAccountName": "api"},
    "status": {"hostIP": "10.0.0.11", "podIP": "10.42.1.7"},
}


def configmap(name: str, data: dict[str, str] | None = None,
              binary: dict[str, str] | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "shop"},
                           "data": data or {}}
    if binary:
        obj["binaryData"] = binary
    return obj


def secret(name: str, data: dict[str, str]) -> dict[str, Any]:
    encoded = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": "shop"},
            "type": "Opaque", "data": encoded}


def lookup_of(*objects: dict[str, Any]) -> Lookup:
    index = {(o["kind"], o["metadata"]["name"]): o for o in objects}

    def lookup(kind: str, name: str) -> dict[str, Any] | None:
        return index.get((kind, name))

    return lookup


NOTHING = lookup_of()


def env_of(container: dict[str, Any], lookup: Lookup = NOTHING) -> dict[str, str]:
    result = resolve_env(POD, container, lookup)
    assert not isinstance(result, ConfigError), result
    return result


def error_of(container: dict[str, Any], lookup: Lookup = NOTHING) -> str:
    result = resolve_env(POD, container, lookup)
    assert isinstance(result, ConfigError), result
    return result.message


# ---- values and $(VAR) expansion -------------------------------------------------------------------------------

def test_plain_values_are_the_environment() -> None:
    assert env_of({"env": [{"name": "A", "value": "1"}, {"name": "B", "value": "two words"}]}) == {
        "A": "1", "B": "two words"}


def test_a_missing_value_is_the_empty_string() -> None:
    assert env_of({"env": [{"name": "EMPTY"}, {"name": "ALSO", "value": ""}]}) == {"EMPTY": "", "ALSO": ""}


def test_a_container_without_env_has_an_empty_environment() -> None:
    assert env_of({"name": "app"}) == {}


def test_references_to_earlier_variables_are_expanded() -> None:
    env = env_of({"env": [{"name": "HOST", "value": "db"}, {"name": "PORT", "value": "5432"},
                          {"name": "URL", "value": "postgres://$(HOST):$(PORT)/shop"}]})
    assert env["URL"] == "postgres://db:5432/shop"


def test_references_to_undefined_or_later_variables_stay_as_written() -> None:
    env = env_of({"env": [{"name": "A", "value": "$(B)-$(NOPE)"}, {"name": "B", "value": "b"}]})
    assert env["A"] == "$(B)-$(NOPE)"


def test_double_dollar_escapes_a_reference() -> None:
    env = env_of({"env": [{"name": "A", "value": "a"}, {"name": "ESC", "value": "$$(A) costs $$5 and $(A)"}]})
    assert env["ESC"] == "$(A) costs $5 and a"


@pytest.mark.parametrize(("value", "expanded"), [
    ("$(A)", "x"), ("$$", "$"), ("$$$(A)", "$x"), ("$(A", "$(A"), ("$A", "$A"), ("$", "$"), ("", ""),
    ("($(A))", "(x)"),
])
def test_expand_follows_the_kubelets_syntax(value: str, expanded: str) -> None:
    assert expand(value, {"A": "x"}) == expanded


def test_envfrom_values_can_be_referenced_but_are_not_themselves_expanded() -> None:
    lookup = lookup_of(configmap("cfg", {"HOST": "db", "RAW": "$(HOST)"}))
    env = env_of({"envFrom": [{"configMapRef": {"name": "cfg"}}],
                  "env": [{"name": "URL", "value": "http://$(HOST)"}]}, lookup)
    assert env["URL"] == "http://db"
    assert env["RAW"] == "$(HOST)"


def test_values_from_configmaps_are_not_expanded() -> None:
    lookup = lookup_of(configmap("cfg", {"k": "$(A)"}))
    env = env_of({"env": [{"name": "A", "value": "a"},
                          {"name": "B", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "k"}}}]}, lookup)
    assert env["B"] == "$(A)"


# ---- envFrom ---------------------------------------------------------------------------------------------------

def test_envfrom_brings_every_key_of_configmaps_and_secrets() -> None:
    lookup = lookup_of(configmap("cfg", {"MODE": "prod", "WORKERS": "4"}), secret("creds", {"TOKEN": "s3cr3t"}))
    env = env_of({"envFrom": [{"configMapRef": {"name": "cfg"}}, {"secretRef": {"name": "creds"}}]}, lookup)
    assert env == {"MODE": "prod", "WORKERS": "4", "TOKEN": "s3cr3t"}


def test_envfrom_prefix_is_put_before_each_key() -> None:
    lookup = lookup_of(configmap("cfg", {"MODE": "prod"}), secret("creds", {"TOKEN": "t"}))
    env = env_of({"envFrom": [{"prefix": "APP_", "configMapRef": {"name": "cfg"}},
                              {"prefix": "S_", "secretRef": {"name": "creds"}}]}, lookup)
    assert env == {"APP_MODE": "prod", "S_TOKEN": "t"}


def test_env_wins_over_envfrom_and_later_sources_win_over_earlier() -> None:
    lookup = lookup_of(configmap("a", {"X": "from-a", "Y": "from-a"}), configmap("b", {"Y": "from-b"}))
    env = env_of({"envFrom": [{"configMapRef": {"name": "a"}}, {"configMapRef": {"name": "b"}}],
                  "env": [{"name": "X", "value": "from-env"}]}, lookup)
    assert env == {"X": "from-env", "Y": "from-b"}


def test_envfrom_leaves_out_binary_data() -> None:
    # makeEnvironmentVariables ranges over configMap.Data only.
    lookup = lookup_of(configmap("cfg", {"MODE": "prod"}, binary={"BLOB": "AAEC"}))
    assert env_of({"envFrom": [{"configMapRef": {"name": "cfg"}}]}, lookup) == {"MODE": "prod"}


def test_envfrom_a_missing_configmap_is_an_error() -> None:
    assert error_of({"envFrom": [{"configMapRef": {"name": "app-config"}}]}) == 'configmap "app-config" not found'


def test_envfrom_a_missing_secret_is_an_error() -> None:
    assert error_of({"envFrom": [{"secretRef": {"name": "db-creds"}}]}) == 'secret "db-creds" not found'


def test_envfrom_an_optional_missing_source_is_skipped() -> None:
    lookup = lookup_of(configmap("cfg", {"A": "1"}))
    env = env_of({"envFrom": [{"configMapRef": {"name": "gone", "optional": True}},
                              {"secretRef": {"name": "gone-too", "optional": True}},
                              {"configMapRef": {"name": "cfg"}}]}, lookup)
    assert env == {"A": "1"}


def test_envfrom_errors_come_before_env_errors() -> None:
    container = {"envFrom": [{"secretRef": {"name": "first"}}],
                 "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "second", "key": "k"}}}]}
    assert error_of(container) == 'secret "first" not found'


# ---- configMapKeyRef / secretKeyRef ----------------------------------------------------------------------------

def test_configmap_key_ref_takes_the_value_of_the_key() -> None:
    lookup = lookup_of(configmap("cfg", {"log-level": "debug"}))
    env = env_of({"env": [{"name": "LOG", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "log-level"}}}]},
                 lookup)
    assert env == {"LOG": "debug"}


def test_secret_key_ref_takes_the_decoded_value() -> None:
    lookup = lookup_of(secret("creds", {"password": "hunter2 ✓"}))
    env = env_of({"env": [{"name": "PW", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}}]},
                 lookup)
    assert env == {"PW": "hunter2 ✓"}


def test_a_missing_configmap_is_worded_as_the_kubelet_words_it() -> None:
    container = {"env": [{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "app-config", "key": "a"}}}]}
    assert error_of(container) == 'configmap "app-config" not found'


def test_a_missing_secret_is_worded_as_the_kubelet_words_it() -> None:
    container = {"env": [{"name": "A", "valueFrom": {"secretKeyRef": {"name": "db-creds", "key": "a"}}}]}
    assert error_of(container) == 'secret "db-creds" not found'


def test_a_missing_configmap_key_names_key_namespace_and_configmap() -> None:
    lookup = lookup_of(configmap("app-config", {"other": "x"}))
    container = {"env": [{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "app-config", "key": "db-url"}}}]}
    assert error_of(container, lookup) == "couldn't find key db-url in ConfigMap shop/app-config"


def test_a_missing_secret_key_names_key_namespace_and_secret() -> None:
    lookup = lookup_of(secret("db-creds", {"user": "u"}))
    container = {"env": [{"name": "A", "valueFrom": {"secretKeyRef": {"name": "db-creds", "key": "password"}}}]}
    assert error_of(container, lookup) == "couldn't find key password in Secret shop/db-creds"


def test_a_binary_data_key_is_not_found_by_a_configmap_key_ref() -> None:
    # makeEnvironmentVariables looks the key up in configMap.Data only.
    lookup = lookup_of(configmap("cfg", {"a": "1"}, binary={"blob": "AAEC"}))
    container = {"env": [{"name": "B", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "blob"}}}]}
    assert error_of(container, lookup) == "couldn't find key blob in ConfigMap shop/cfg"


def test_optional_references_that_miss_leave_the_variable_out() -> None:
    lookup = lookup_of(configmap("cfg", {"a": "1"}), secret("creds", {"a": "1"}))
    container = {"env": [
        {"name": "NO_CM", "valueFrom": {"configMapKeyRef": {"name": "gone", "key": "a", "optional": True}}},
        {"name": "NO_CM_KEY", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "b", "optional": True}}},
        {"name": "NO_SECRET", "valueFrom": {"secretKeyRef": {"name": "gone", "key": "a", "optional": True}}},
        {"name": "NO_SECRET_KEY", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "b", "optional": True}}},
        {"name": "KEPT", "value": "yes"},
    ]}
    assert env_of(container, lookup) == {"KEPT": "yes"}


def test_the_first_failing_reference_is_the_one_reported() -> None:
    container = {"env": [
        {"name": "A", "valueFrom": {"secretKeyRef": {"name": "one", "key": "k"}}},
        {"name": "B", "valueFrom": {"configMapKeyRef": {"name": "two", "key": "k"}}},
    ]}
    assert error_of(container) == 'secret "one" not found'


# ---- fieldRef --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "value"), [
    ("metadata.name", "api-5f7d8-abcde"),
    ("metadata.namespace", "shop"),
    ("metadata.uid", "0b9e-11aa"),
    ("metadata.labels['app']", "api"),
    ("metadata.annotations['team']", "payments"),
    ("spec.nodeName", "edge-1-agent-0"),
    ("spec.serviceAccountName", "api"),
    ("status.hostIP", "10.0.0.11"),
    ("status.podIP", "10.42.1.7"),
])
def test_field_refs_read_the_pods_own_fields(path: str, value: str) -> None:
    env = env_of({"env": [{"name": "V", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": path}}}]})
    assert env == {"V": value}


def test_a_field_ref_to_a_missing_label_is_empty() -> None:
    env = env_of({"env": [{"name": "V", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['nope']"}}}]})
    assert env == {"V": ""}


def test_field_refs_can_be_referenced_by_later_values() -> None:
    env = env_of({"env": [{"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                          {"name": "ID", "value": "$(POD).shop"}]})
    assert env["ID"] == "api-5f7d8-abcde.shop"


# ---- volumes ---------------------------------------------------------------------------------------------------

def pod_with(*volumes: dict[str, Any]) -> dict[str, Any]:
    return {**POD, "spec": {**POD["spec"], "volumes": list(volumes)}}


def test_volumes_whose_sources_exist_mount() -> None:
    lookup = lookup_of(configmap("cfg", {"app.yaml": "x"}), secret("tls", {"tls.crt": "c"}))
    pod = pod_with({"name": "config", "configMap": {"name": "cfg"}},
                   {"name": "certs", "secret": {"secretName": "tls"}},
                   {"name": "scratch", "emptyDir": {}})
    assert volume_errors(pod, lookup) == []


def test_a_pod_without_volumes_has_nothing_to_mount() -> None:
    assert volume_errors(POD, NOTHING) == []


def test_a_missing_configmap_volume_fails_to_mount() -> None:
    pod = pod_with({"name": "config", "configMap": {"name": "app-config"}})
    assert volume_errors(pod, NOTHING) == [
        'MountVolume.SetUp failed for volume "config" : configmap "app-config" not found']


def test_a_missing_secret_volume_fails_to_mount() -> None:
    pod = pod_with({"name": "certs", "secret": {"secretName": "tls"}})
    assert volume_errors(pod, NOTHING) == ['MountVolume.SetUp failed for volume "certs" : secret "tls" not found']


def test_optional_missing_volume_sources_mount_empty() -> None:
    pod = pod_with({"name": "config", "configMap": {"name": "app-config", "optional": True}},
                   {"name": "certs", "secret": {"secretName": "tls", "optional": True}})
    assert volume_errors(pod, NOTHING) == []


def test_failures_come_in_the_pods_volume_order() -> None:
    pod = pod_with({"name": "b-certs", "secret": {"secretName": "tls"}},
                   {"name": "scratch", "emptyDir": {}},
                   {"name": "a-config", "configMap": {"name": "cfg"}})
    assert volume_errors(pod, NOTHING) == [
        'MountVolume.SetUp failed for volume "b-certs" : secret "tls" not found',
        'MountVolume.SetUp failed for volume "a-config" : configmap "cfg" not found',
    ]


def test_configmap_items_must_name_existing_keys() -> None:
    lookup = lookup_of(configmap("cfg", {"app.yaml": "x"}))
    pod = pod_with({"name": "config", "configMap": {"name": "cfg", "items": [
        {"key": "app.yaml", "path": "app.yaml"}, {"key": "missing-key", "path": "m"}]}})
    assert volume_errors(pod, lookup) == [
        'MountVolume.SetUp failed for volume "config" : configmap references non-existent config key: missing-key']


def test_configmap_items_may_name_binary_data_keys() -> None:
    lookup = lookup_of(configmap("cfg", {"a": "x"}, binary={"logo.png": "AAEC"}))
    pod = pod_with({"name": "config", "configMap": {"name": "cfg", "items": [{"key": "logo.png", "path": "l"}]}})
    assert volume_errors(pod, lookup) == []


def test_secret_items_must_name_existing_keys() -> None:
    # pkg/volume/secret MakePayload: "references non-existent secret key: %s".
    lookup = lookup_of(secret("tls", {"tls.crt": "c"}))
    pod = pod_with({"name": "certs", "secret": {"secretName": "tls", "items": [{"key": "tls.key", "path": "k"}]}})
    assert volume_errors(pod, lookup) == [
        'MountVolume.SetUp failed for volume "certs" : references non-existent secret key: tls.key']


def test_optional_sources_skip_missing_items() -> None:
    lookup = lookup_of(configmap("cfg", {"a": "x"}), secret("tls", {"a": "x"}))
    pod = pod_with(
        {"name": "config", "configMap": {"name": "cfg", "optional": True, "items": [{"key": "b", "path": "b"}]}},
        {"name": "certs", "secret": {"secretName": "tls", "optional": True, "items": [{"key": "b", "path": "b"}]}},
    )
    assert volume_errors(pod, lookup) == []


def test_a_projected_volume_fails_on_a_missing_source() -> None:
    lookup = lookup_of(secret("tls", {"tls.crt": "c"}))
    pod = pod_with({"name": "bundle", "projected": {"sources": [
        {"secret": {"name": "tls"}}, {"configMap": {"name": "ca-bundle"}}, {"serviceAccountToken": {"path": "t"}}]}})
    assert volume_errors(pod, lookup) == [
        'MountVolume.SetUp failed for volume "bundle" : configmap "ca-bundle" not found']


def test_a_projected_volume_with_only_optional_or_present_sources_mounts() -> None:
    lookup = lookup_of(configmap("cfg", {"a": "x"}))
    pod = pod_with({"name": "bundle", "projected": {"sources": [
        {"configMap": {"name": "cfg", "items": [{"key": "a", "path": "a"}]}},
        {"secret": {"name": "gone", "optional": True}}]}})
    assert volume_errors(pod, lookup) == []


def test_a_projected_volume_reports_all_its_failures_in_one_message() -> None:
    # projected.go collects every source's error and returns utilerrors.NewAggregate(errlist): one SetUp failure
    # whose text is "[e1, e2]" when there are several.
    pod = pod_with({"name": "bundle", "projected": {"sources": [
        {"configMap": {"name": "a"}}, {"secret": {"name": "b"}}]}})
    assert volume_errors(pod, NOTHING) == [
        'MountVolume.SetUp failed for volume "bundle" : [configmap "a" not found, secret "b" not found]']


def test_a_projected_items_key_that_is_missing_fails_to_mount() -> None:
    lookup = lookup_of(configmap("cfg", {"a": "x"}))
    pod = pod_with({"name": "bundle", "projected": {"sources": [
        {"configMap": {"name": "cfg", "items": [{"key": "nope", "path": "n"}]}}]}})
    assert volume_errors(pod, lookup) == [
        'MountVolume.SetUp failed for volume "bundle" : configmap references non-existent config key: nope']
