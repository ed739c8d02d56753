"""What the syncer applies on a cluster for a tenant's Deployment, and when the cluster's copy has drifted.

Upstream objects are made as the control plane stores them (its strategies default them); "the cluster's copy" is
the desired object as a cluster stores it — defaulted by the same strategies, given its own identity, touched by
the deployment controller — and as the syncer's informer holds it after the official client's models (no kind in
list items, nulls dropped, times re-rendered).
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from kubernetes import client

from controlplane.registry.strategy import strategy_for
from syncer.translate import (
    CLUSTER_LABEL,
    CLUSTERS_ANNOTATION,
    DESIRED_HASH_ANNOTATION,
    MANAGED_BY,
    MANAGED_BY_LABEL,
    UPSTREAM_GENERATION_ANNOTATION,
    UPSTREAM_NAME_ANNOTATION,
    UPSTREAM_NAMESPACE_ANNOTATION,
    UPSTREAM_UID_ANNOTATION,
    UPSTREAM_WORKSPACE_ANNOTATION,
    downstream_namespace,
    downstream_namespace_object,
    goes_down,
    is_managed,
    needs_update,
    references,
    service_account_references,
    to_downstream,
    upstream_locator,
    upstream_of_object,
)

WORKSPACE = "root:team-a"
CLUSTER = "edge-1"
DNS = downstream_namespace(WORKSPACE, "shop")
GROUPS = {"Deployment": "apps", "ReplicaSet": "apps"}
MODELS = {"Deployment": "V1Deployment", "ConfigMap": "V1ConfigMap", "Secret": "V1Secret",
          "ServiceAccount": "V1ServiceAccount", "Service": "V1Service", "Namespace": "V1Namespace"}
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def stored_upstream(manifest: dict[str, Any], *, generation: int = 1) -> dict[str, Any]:
    """`manifest` as the control plane stores it in the tenant's workspace."""
    obj = copy.deepcopy(manifest)
    obj["metadata"]["namespace"] = "shop"
    strategy = strategy_for(GROUPS.get(obj["kind"], ""), obj["kind"])
    strategy.prepare_for_create(obj)
    assert strategy.validate(obj) == []
    meta = obj["metadata"]
    meta.update({"uid": f"up-{meta['name']}-uid", "resourceVersion": "4711",
                 "creationTimestamp": "2026-11-25T09:00:00Z",
                 "managedFields": [{"manager": "kubectl-client-side-apply", "operation": "Update"}]})
    if "generation" in meta:
        meta["generation"] = generation
    return obj


def cluster_copy(desired: dict[str, Any]) -> dict[str, Any]:
    """`desired` as the cluster stores it and the syncer's informer then holds it."""
    obj = copy.deepcopy(desired)
    kind = obj["kind"]
    strategy = strategy_for(GROUPS.get(kind, ""), kind)
    if kind == "Service":  # the cluster's own allocations
        obj["spec"].update({"clusterIP": "10.43.12.7", "clusterIPs": ["10.43.12.7"], "healthCheckNodePort": 31999})
        for i, port in enumerate(obj["spec"]["ports"]):
            port["nodePort"] = 31000 + i
    strategy.prepare_for_create(obj)
    assert strategy.validate(obj) == [], strategy.validate(obj)
    obj["metadata"].update({"uid": "down-uid", "resourceVersion": "99", "creationTimestamp": "2026-11-25T09:00:01Z",
                            "managedFields": [{"manager": "python", "operation": "Update"}]})
    if kind == "Deployment":
        obj["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = "1"
        obj["status"] = {"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2}
    api = client.ApiClient()
    held = api.sanitize_for_serialization(api.deserialize(json.dumps(obj), MODELS[kind], "application/json"))
    del held["apiVersion"], held["kind"]  # list items carry neither
    return held


DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {
        "name": "web",
        "labels": {"app": "web", "app.kubernetes.io/managed-by": "Helm"},
        "annotations": {
            "team": "storefront",
            LAST_APPLIED: '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"namespace":"shop"}}',
            CLUSTERS_ANNOTATION: '{"edge-1":null}',
        },
        "finalizers": ["workload.canopy.dev/syncer-edge-1"],
    },
    "spec": {
        "replicas": 4,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}, "annotations": {"kubectl.kubernetes.io/restartedAt": "today"}},
            "spec": {
                "serviceAccountName": "web",
                "containers": [{
                    "name": "web", "image": "nginx:1.27",
                    "ports": [{"containerPort": 80, "name": "http"}],
                    "env": [{"name": "MODE", "value": "prod"},
                            {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}],
                    "envFrom": [{"configMapRef": {"name": "web-config"}}],
                    "resources": {"limits": {"memory": "0.5Gi", "cpu": "0.5"}},
                    "volumeMounts": [{"name": "certs", "mountPath": "/certs", "readOnly": False}],
                    "readinessProbe": {"httpGet": {"path": "/", "port": "http"}},
                }],
                "volumes": [{"name": "certs", "secret": {"secretName": "web-tls"}}],
            },
        },
    },
}
CONFIG_MAP: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap",
                              "metadata": {"name": "web-config", "labels": {"app": "web"}},
                              "data": {"MODE": "prod"}, "binaryData": {"logo.png": "iVBORw0KGgo="}}
SECRET: dict[str, Any] = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "type": "Opaque",
                          "data": {"password": "aHVudGVyMg=="}, "immutable": True}
SERVICE_ACCOUNT: dict[str, Any] = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "web"},
                                   "secrets": [{"name": "web-token-x7k2p"}],
                                   "imagePullSecrets": [{"name": "registry"}],
                                   "automountServiceAccountToken": False}
SERVICE: dict[str, Any] = {
    "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
    "spec": {"type": "LoadBalancer", "selector": {"app": "web"},
             "clusterIP": "10.96.0.42", "clusterIPs": ["10.96.0.42"], "ipFamilies": ["IPv4"],
             "ipFamilyPolicy": "SingleStack", "externalTrafficPolicy": "Local",
             "healthCheckNodePort": 32000,
             "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP", "nodePort": 30080}]},
}


def upstream_deployment(**changes: Any) -> dict[str, Any]:
    manifest = copy.deepcopy(DEPLOYMENT)
    manifest["spec"].update(changes)
    return stored_upstream(manifest, generation=3)


# ---- what goes down -----------------------------------------------------------------------------------------

def test_a_deployment_goes_to_the_tenants_downstream_namespace_under_its_own_name() -> None:
    down = to_downstream(upstream_deployment(), WORKSPACE, CLUSTER, replicas=2)
    assert down["apiVersion"] == "apps/v1" and down["kind"] == "Deployment"
    assert down["metadata"]["name"] == "web"
    assert down["metadata"]["namespace"] == DNS


def test_only_name_namespace_labels_and_annotations_go_down() -> None:
    down = to_downstream(upstream_deployment(), WORKSPACE, CLUSTER, replicas=2)
    assert set(down) == {"apiVersion", "kind", "metadata", "spec"}
    assert set(down["metadata"]) == {"name", "namespace", "labels", "annotations"}


def test_the_tenants_labels_go_down_with_the_syncers_mark() -> None:
    labels = to_downstream(upstream_deployment(), WORKSPACE, CLUSTER, replicas=2)["metadata"]["labels"]
    assert labels == {"app": "web", "app.kubernetes.io/managed-by": "Helm", MANAGED_BY_LABEL: MANAGED_BY,
                      CLUSTER_LABEL: CLUSTER}


def test_annotations_go_down_with_the_upstream_locator_but_not_kubectls_or_the_syncers() -> None:
    annotations = to_downstream(upstream_deployment(), WORKSPACE, CLUSTER, replicas=2)["metadata"]["annotations"]
    assert annotations["team"] == "storefront"
    assert LAST_APPLIED not in annotations
    assert CLUSTERS_ANNOTATION not in annotations
    assert annotations[UPSTREAM_WORKSPACE_ANNOTATION] == WORKSPACE
    assert annotations[UPSTREAM_NAMESPACE_ANNOTATION] == "shop"
    assert annotations[UPSTREAM_NAME_ANNOTATION] == "web"
    assert annotations[UPSTREAM_UID_ANNOTATION] == "up-web-uid"
    assert annotations[UPSTREAM_GENERATION_ANNOTATION] == "3"
    assert len(annotations[DESIRED_HASH_ANNOTATION]) == 16


def test_a_tenant_cannot_forge_the_locator() -> None:
    manifest = copy.deepcopy(DEPLOYMENT)
    manifest["metadata"]["annotations"][UPSTREAM_WORKSPACE_ANNOTATION] = "root:team-b"
    manifest["metadata"]["labels"][CLUSTER_LABEL] = "edge-9"
    down = to_downstream(stored_upstream(manifest), WORKSPACE, CLUSTER)
    assert down["metadata"]["annotations"][UPSTREAM_WORKSPACE_ANNOTATION] == WORKSPACE
    assert down["metadata"]["labels"][CLUSTER_LABEL] == CLUSTER


def test_the_downstream_object_leads_back_to_the_upstream_one() -> None:
    down = to_downstream(upstream_deployment(), WORKSPACE, CLUSTER, replicas=2)
    assert is_managed(down)
    assert upstream_of_object(down) == (WORKSPACE, "shop", "web")


def test_the_clusters_share_replaces_the_replicas_and_the_rest_of_the_spec_is_the_tenants() -> None:
    up = upstream_deployment(paused=True)
    down = to_downstream(up, WORKSPACE, CLUSTER, replicas=1)
    assert down["spec"]["replicas"] == 1
    assert {**down["spec"], "replicas": 4} == up["spec"]
    assert down["spec"]["paused"] is True
    assert down["spec"]["strategy"] == {"type": "RollingUpdate",
                                        "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}


def test_a_share_of_zero_goes_down_as_zero() -> None:
    assert to_downstream(upstream_deployment(), WORKSPACE, CLUSTER, replicas=0)["spec"]["replicas"] == 0


def test_without_a_share_the_tenants_replicas_go_down() -> None:
    assert to_downstream(upstream_deployment(), WORKSPACE, CLUSTER)["spec"]["replicas"] == 4


def test_the_upstream_object_is_left_as_it_was() -> None:
    up = upstream_deployment()
    before = copy.deepcopy(up)
    down = to_downstream(up, WORKSPACE, CLUSTER, replicas=1)
    down["spec"]["template"]["spec"]["containers"][0]["image"] = "changed"
    assert up == before


def test_a_config_map_goes_down_with_its_data() -> None:
    down = to_downstream(stored_upstream(CONFIG_MAP), WORKSPACE, CLUSTER)
    assert {k: v for k, v in down.items() if k != "metadata"} == {
        "apiVersion": "v1", "kind": "ConfigMap", "data": {"MODE": "prod"}, "binaryData": {"logo.png": "iVBORw0KGgo="}}
    assert down["metadata"]["labels"] == {"app": "web", MANAGED_BY_LABEL: MANAGED_BY, CLUSTER_LABEL: CLUSTER}
    assert UPSTREAM_GENERATION_ANNOTATION not in down["metadata"]["annotations"]


def test_a_secret_goes_down_with_its_type_and_data() -> None:
    down = to_downstream(stored_upstream(SECRET), WORKSPACE, CLUSTER)
    assert {k: v for k, v in down.items() if k != "metadata"} == {
        "apiVersion": "v1", "kind": "Secret", "type": "Opaque", "data": {"password": "aHVudGVyMg=="},
        "immutable": True}


def test_a_service_account_goes_down_without_its_upstream_token_secrets() -> None:
    down = to_downstream(stored_upstream(SERVICE_ACCOUNT), WORKSPACE, CLUSTER)
    assert "secrets" not in down
    assert down["imagePullSecrets"] == [{"name": "registry"}]
    assert down["automountServiceAccountToken"] is False


def test_a_service_goes_down_without_the_control_planes_allocations() -> None:
    spec = to_downstream(SERVICE | {"metadata": {"name": "web", "namespace": "shop"}}, WORKSPACE, CLUSTER)["spec"]
    assert spec == {"type": "LoadBalancer", "selector": {"app": "web"}, "ipFamilyPolicy": "SingleStack",
                    "externalTrafficPolicy": "Local",
                    "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]}


def test_a_headless_service_stays_headless() -> None:
    headless = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db", "namespace": "shop"},
                "spec": {"clusterIP": "None", "clusterIPs": ["None"], "selector": {"app": "db"},
                         "ports": [{"port": 5432}]}}
    spec = to_downstream(headless, WORKSPACE, CLUSTER)["spec"]
    assert spec["clusterIP"] == "None" and spec["clusterIPs"] == ["None"]


@pytest.mark.parametrize("obj", [
    {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "shop"}},
    {"metadata": {"name": "p", "namespace": "shop"}},
])
def test_other_kinds_do_not_go_down(obj: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="does not take"):
        to_downstream(obj, WORKSPACE, CLUSTER)


@pytest.mark.parametrize("manifest", [DEPLOYMENT, CONFIG_MAP, SECRET, SERVICE_ACCOUNT, SERVICE])
def test_what_goes_down_is_valid_for_the_cluster(manifest: dict[str, Any]) -> None:
    cluster_copy(to_downstream(stored_upstream(manifest), WORKSPACE, CLUSTER, replicas=None))


def test_the_downstream_namespace_carries_its_tenant_namespace() -> None:
    ns = downstream_namespace_object(WORKSPACE, "shop", CLUSTER)
    assert ns == {
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": DNS, "labels": {MANAGED_BY_LABEL: MANAGED_BY, CLUSTER_LABEL: CLUSTER},
                     "annotations": {UPSTREAM_WORKSPACE_ANNOTATION: WORKSPACE, UPSTREAM_NAMESPACE_ANNOTATION: "shop"}},
    }
    assert upstream_locator(ns) == (WORKSPACE, "shop")


# ---- references ---------------------------------------------------------------------------------------------

def test_everything_a_pod_template_references_is_found() -> None:
    template_spec = {
        "serviceAccountName": "worker",
        "imagePullSecrets": [{"name": "registry"}],
        "initContainers": [{"name": "migrate", "image": "busybox",
                            "envFrom": [{"secretRef": {"name": "migrate-env"}}]}],
        "containers": [{
            "name": "app", "image": "busybox",
            "envFrom": [{"configMapRef": {"name": "app-env"}, "prefix": "APP_"},
                        {"secretRef": {"name": "app-secrets", "optional": True}}],
            "env": [{"name": "A", "value": "1"},
                    {"name": "B", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "b"}}},
                    {"name": "C", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "c"}}},
                    {"name": "D", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
        }],
        "volumes": [
            {"name": "a", "configMap": {"name": "files"}},
            {"name": "b", "secret": {"secretName": "tls"}},
            {"name": "c", "projected": {"sources": [{"configMap": {"name": "bundle-cm"}},
                                                    {"secret": {"name": "bundle-secret"}},
                                                    {"serviceAccountToken": {"path": "token"}},
                                                    {"downwardAPI": {"items": []}}]}},
            {"name": "d", "csi": {"driver": "secrets-store", "nodePublishSecretRef": {"name": "csi-creds"}}},
            {"name": "e", "emptyDir": {}},
        ],
    }
    deployment = {"spec": {"template": {"spec": template_spec}}}
    assert references(deployment) == {
        ("ServiceAccount", "worker"), ("Secret", "registry"), ("Secret", "migrate-env"), ("ConfigMap", "app-env"),
        ("Secret", "app-secrets"), ("ConfigMap", "settings"), ("Secret", "creds"), ("ConfigMap", "files"),
        ("Secret", "tls"), ("ConfigMap", "bundle-cm"), ("Secret", "bundle-secret"), ("Secret", "csi-creds"),
    }


def test_the_example_deployment_references_its_config_secrets_and_account() -> None:
    assert references(upstream_deployment()) == {("ServiceAccount", "web"), ("Secret", "db"),
                                                 ("ConfigMap", "web-config"), ("Secret", "web-tls")}


@pytest.mark.parametrize("account", [{}, {"serviceAccountName": "default"}, {"serviceAccount": "default"}])
def test_the_default_service_account_is_the_clusters_own(account: dict[str, str]) -> None:
    deployment = {"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "b"}], **account}}}}
    assert references(deployment) == set()


def test_the_deprecated_service_account_field_is_read_too() -> None:
    assert references({"spec": {"template": {"spec": {"serviceAccount": "legacy"}}}}) == {
        ("ServiceAccount", "legacy")}


def test_a_deployment_without_a_template_references_nothing() -> None:
    assert references({"spec": {}}) == set()
    assert references({}) == set()


def test_a_service_account_brings_its_image_pull_secrets() -> None:
    assert service_account_references(SERVICE_ACCOUNT) == {("Secret", "registry")}
    assert service_account_references({"metadata": {"name": "default"}}) == set()


# ---- drift --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("manifest", [DEPLOYMENT, CONFIG_MAP, SECRET, SERVICE_ACCOUNT, SERVICE])
def test_the_clusters_own_copy_of_what_the_syncer_wrote_is_no_drift(manifest: dict[str, Any]) -> None:
    """What makes a restarted syncer write nothing: defaults, allocations, status and identity added by the
    cluster are not differences."""
    desired = to_downstream(stored_upstream(manifest), WORKSPACE, CLUSTER, replicas=2)
    assert not needs_update(desired, cluster_copy(desired))


def test_the_downstream_namespace_as_stored_is_no_drift() -> None:
    desired = downstream_namespace_object(WORKSPACE, "shop", CLUSTER)
    stored = copy.deepcopy(desired)
    stored["metadata"]["labels"]["kubernetes.io/metadata.name"] = DNS
    stored.update({"spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
    assert not needs_update(desired, stored)


def test_the_deployment_defaults_the_cluster_adds_are_no_drift() -> None:
    desired = to_downstream(upstream_deployment(), WORKSPACE, CLUSTER, replicas=2)
    held = cluster_copy(desired)
    container = held["spec"]["template"]["spec"]["containers"][0]
    assert container["terminationMessagePath"] == "/dev/termination-log"  # the cluster's default, not ours
    del container["volumeMounts"][0]["readOnly"]  # K3s serializes `readOnly: false` away (omitempty)
    assert not needs_update(desired, held)


def test_a_new_share_is_an_update() -> None:
    desired = to_downstream(upstream_deployment(), WORKSPACE, CLUSTER, replicas=2)
    held = cluster_copy(desired)
    assert needs_update(to_downstream(upstream_deployment(), WORKSPACE, CLUSTER, replicas=3), held)


def test_an_image_edited_on_the_cluster_is_reverted() -> None:
    desired = to_downstream(upstream_deployment(), WORKSPACE, CLUSTER, replicas=2)
    held = cluster_copy(desired)
    held["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:evil"
    assert needs_update(desired, held)


def test_a_label_removed_on_the_cluster_is_restored() -> None:
    desired = to_downstream(upstream_deployment(), WORKSPACE, CLUSTER, replicas=2)
    held = cluster_copy(desired)
    del held["metadata"]["labels"][MANAGED_BY_LABEL]
    assert needs_update(desired, held)


def test_a_config_map_key_changed_on_the_cluster_is_reverted() -> None:
    desired = to_downstream(stored_upstream(CONFIG_MAP), WORKSPACE, CLUSTER)
    held = cluster_copy(desired)
    held["data"]["MODE"] = "debug"
    assert needs_update(desired, held)


def test_a_limit_removed_upstream_is_an_update_though_the_cluster_still_has_it() -> None:
    held = cluster_copy(to_downstream(upstream_deployment(), WORKSPACE, CLUSTER, replicas=2))
    manifest = copy.deepcopy(DEPLOYMENT)
    del manifest["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"]
    desired = to_downstream(stored_upstream(manifest, generation=4), WORKSPACE, CLUSTER, replicas=2)
    assert needs_update(desired, held)


def test_a_label_removed_upstream_is_an_update() -> None:
    held = cluster_copy(to_downstream(upstream_deployment(), WORKSPACE, CLUSTER, replicas=2))
    manifest = copy.deepcopy(DEPLOYMENT)
    del manifest["metadata"]["labels"]["app.kubernetes.io/managed-by"]
    assert needs_update(to_downstream(stored_upstream(manifest, generation=3), WORKSPACE, CLUSTER, replicas=2), held)


def test_an_env_var_removed_is_an_update() -> None:
    desired = to_downstream(upstream_deployment(), WORKSPACE, CLUSTER, replicas=2)
    held = cluster_copy(desired)
    held["spec"]["template"]["spec"]["containers"][0]["env"].pop()
    assert needs_update(desired, held)


def test_reordered_list_items_are_drift() -> None:
    desired = {"metadata": {"name": "x"}, "spec": {"containers": [{"name": "a"}, {"name": "b"}]}}
    actual = {"metadata": {"name": "x"}, "spec": {"containers": [{"name": "b"}, {"name": "a"}]}}
    assert needs_update(desired, actual)


def test_what_the_cluster_adds_inside_list_items_is_no_drift() -> None:
    desired = {"spec": {"ports": [{"port": 80}]}}
    assert not needs_update(desired, {"spec": {"ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}]}})


@pytest.mark.parametrize("zero", [None, False, 0, "", {}, []])
def test_a_zero_value_matches_an_absent_field(zero: Any) -> None:
    assert not needs_update({"spec": {"field": zero}}, {"spec": {}})


def test_a_zero_value_does_not_match_a_set_one() -> None:
    assert needs_update({"spec": {"replicas": 0}}, {"spec": {"replicas": 1}})
    assert needs_update({"spec": {"paused": False}}, {"spec": {"paused": True}})


def test_numbers_compare_by_value_but_not_with_booleans() -> None:
    assert not needs_update({"spec": {"n": 1}}, {"spec": {"n": 1.0}})
    assert needs_update({"spec": {"n": True}}, {"spec": {"n": 1}})
    assert needs_update({"spec": {"n": "1"}}, {"spec": {"n": 1}})


def test_a_field_the_cluster_lost_its_shape_for_is_drift() -> None:
    assert needs_update({"spec": {"template": {"spec": {}}}}, {"spec": {"template": "garbage"}})
    assert needs_update({"spec": {"ports": [{"port": 80}]}}, {"spec": {"ports": {"port": 80}}})


def test_every_service_goes_down_but_the_control_planes_own() -> None:
    def service(namespace: str, name: str) -> dict[str, Any]:
        return {"apiVersion": "v1", "kind": "Service", "metadata": {"namespace": namespace, "name": name}}

    assert not goes_down(service("default", "kubernetes"))
    assert goes_down(service("default", "web"))
    assert goes_down(service("shop", "kubernetes")), "only the one in default is the control plane's"
