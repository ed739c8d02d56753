"""The v1 defaulters for PodSpec and everything inside it (`k8s.io/kubernetes/pkg/apis/core/v1/defaults.go`).

kube-apiserver fills these in while decoding, so every stored Pod, Deployment and ReplicaSet carries them, and
clients (kubectl diff, apply's three-way merge, controllers comparing templates) expect to see them. Three
defaults are Pod-only on purpose, exactly as upstream: requests copied from limits, `enableServiceLinks`, and
host ports equal to container ports under `hostNetwork`; a pod template keeps what its author wrote for those.
Quantities are rewritten in canonical form here, since the real server never stores the spelling it was sent
(`1024Mi` is stored as `1Gi`).

Every function is idempotent: defaulting an already defaulted object changes nothing.
"""

from __future__ import annotations

from typing import Any

from controlplane.registry.image import default_pull_policy
from controlplane.registry.quantity import QuantityError, canonical_quantity
from controlplane.registry.values import as_dict, as_list, as_str, child_dict, dicts

DEFAULT_FILE_MODE = 0o644  # 420, what the API shows
DEFAULT_TERMINATION_GRACE_PERIOD = 30
DEFAULT_SCHEDULER = "default-scheduler"
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")

_VOLUME_SOURCES = frozenset(
    {
        "hostPath",
        "emptyDir",
        "gcePersistentDisk",
        "awsElasticBlockStore",
        "gitRepo",
        "secret",
        "nfs",
        "iscsi",
        "glusterfs",
        "persistentVolumeClaim",
        "rbd",
        "flexVolume",
        "cinder",
        "cephfs",
        "flocker",
        "downwardAPI",
        "fc",
        "azureFile",
        "configMap",
        "vsphereVolume",
        "quobyte",
        "azureDisk",
        "photonPersistentDisk",
        "projected",
        "portworxVolume",
        "scaleIO",
        "storageos",
        "csi",
        "ephemeral",
        "image",
    }
)


def volume_source_keys(volume: dict[str, Any]) -> list[str]:
    """The volume-source members a volume sets, in the order kube-apiserver checks them."""
    return [k for k in volume if k in _VOLUME_SOURCES and volume[k] is not None]


def canonicalize_resource_list(resources: Any) -> None:
    """Rewrite each quantity of a ResourceList in canonical form; malformed ones are left for the decoder check."""
    if not isinstance(resources, dict):
        return
    for name, value in resources.items():
        try:
            resources[name] = canonical_quantity(value)
        except (QuantityError, TypeError):
            continue


def _default_field_ref(holder: dict[str, Any]) -> None:
    ref = holder.get("fieldRef")
    if isinstance(ref, dict) and not ref.get("apiVersion"):
        ref["apiVersion"] = "v1"
    res = holder.get("resourceFieldRef")
    if isinstance(res, dict):
        res["divisor"] = canonical_quantity(res["divisor"]) if _is_quantity(res.get("divisor")) else "0"


def _is_quantity(value: Any) -> bool:
    try:
        canonical_quantity(value)
    except (QuantityError, TypeError):
        return False
    return True


def _default_http_get(action: Any) -> None:
    if isinstance(action, dict):
        if not action.get("path"):
            action["path"] = "/"
        if not action.get("scheme"):
            action["scheme"] = "HTTP"


def _default_probe(probe: Any) -> None:
    if not isinstance(probe, dict):
        return
    for name, value in (("timeoutSeconds", 1), ("periodSeconds", 10), ("successThreshold", 1), ("failureThreshold", 3)):
        if not probe.get(name):
            probe[name] = value
    _default_http_get(probe.get("httpGet"))


def default_container(container: dict[str, Any]) -> None:
    if not container.get("imagePullPolicy"):
        container["imagePullPolicy"] = default_pull_policy(as_str(container.get("image")))
    if not container.get("terminationMessagePath"):
        container["terminationMessagePath"] = "/dev/termination-log"
    if not container.get("terminationMessagePolicy"):
        container["terminationMessagePolicy"] = "File"
    for port in dicts(container.get("ports")):
        if not port.get("protocol"):
            port["protocol"] = "TCP"
    for env in dicts(container.get("env")):
        value_from = env.get("valueFrom")
        if isinstance(value_from, dict):
            _default_field_ref(value_from)
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        _default_probe(container.get(probe))
    lifecycle = container.get("lifecycle")
    if isinstance(lifecycle, dict):
        for hook in ("postStart", "preStop"):
            _default_http_get(as_dict(lifecycle.get(hook)).get("httpGet"))
    resources = child_dict(container, "resources")  # a struct in Go: always present in the output
    canonicalize_resource_list(resources.get("limits"))
    canonicalize_resource_list(resources.get("requests"))


def _default_downward_api_items(items: Any) -> None:
    for item in dicts(items):
        _default_field_ref(item)


def default_volume(volume: dict[str, Any]) -> None:
    if not volume_source_keys(volume):
        volume["emptyDir"] = {}
    for source in ("secret", "configMap", "downwardAPI", "projected"):
        value = volume.get(source)
        if isinstance(value, dict) and value.get("defaultMode") is None:
            value["defaultMode"] = DEFAULT_FILE_MODE
    host_path = volume.get("hostPath")
    if isinstance(host_path, dict) and host_path.get("type") is None:
        host_path["type"] = ""
    empty_dir = volume.get("emptyDir")
    if isinstance(empty_dir, dict) and "sizeLimit" in empty_dir and _is_quantity(empty_dir["sizeLimit"]):
        empty_dir["sizeLimit"] = canonical_quantity(empty_dir["sizeLimit"])
    _default_downward_api_items(as_dict(volume.get("downwardAPI")).get("items"))
    for projection in dicts(as_dict(volume.get("projected")).get("sources")):
        _default_downward_api_items(as_dict(projection.get("downwardAPI")).get("items"))
        token = projection.get("serviceAccountToken")
        if isinstance(token, dict) and token.get("expirationSeconds") is None:
            token["expirationSeconds"] = 3600
    claim_spec = as_dict(as_dict(as_dict(volume.get("ephemeral")).get("volumeClaimTemplate")).get("spec"))
    if claim_spec and not claim_spec.get("volumeMode"):
        claim_spec["volumeMode"] = "Filesystem"


def default_pod_spec(spec: dict[str, Any]) -> None:
    """`SetDefaults_PodSpec` and the defaulters of everything a PodSpec contains."""
    if not spec.get("dnsPolicy"):
        spec["dnsPolicy"] = "ClusterFirst"
    if not spec.get("restartPolicy"):
        spec["restartPolicy"] = "Always"
    if not isinstance(spec.get("securityContext"), dict):
        spec["securityContext"] = {}
    if spec.get("terminationGracePeriodSeconds") is None:
        spec["terminationGracePeriodSeconds"] = DEFAULT_TERMINATION_GRACE_PERIOD
    if not spec.get("schedulerName"):
        spec["schedulerName"] = DEFAULT_SCHEDULER
    for list_name in CONTAINER_LISTS:
        for container in as_list(spec.get(list_name)):
            if isinstance(container, dict):
                default_container(container)
    for volume in as_list(spec.get("volumes")):
        if isinstance(volume, dict):
            default_volume(volume)
    canonicalize_resource_list(spec.get("overhead"))


def default_pod_template(template: dict[str, Any]) -> None:
    default_pod_spec(child_dict(template, "spec"))


def default_pod(pod: dict[str, Any]) -> None:
    """`SetDefaults_Pod` on top of the PodSpec defaults: what only a real Pod gets."""
    spec = child_dict(pod, "spec")
    default_pod_spec(spec)
    for list_name in ("containers", "initContainers"):
        for container in dicts(spec.get(list_name)):
            resources = child_dict(container, "resources")
            limits = resources.get("limits")
            if isinstance(limits, dict) and limits:
                requests = child_dict(resources, "requests")
                for name, value in limits.items():
                    requests.setdefault(name, value)
    if spec.get("enableServiceLinks") is None:
        spec["enableServiceLinks"] = True
    if spec.get("hostNetwork") is True:
        for list_name in ("containers", "initContainers"):
            for container in dicts(spec.get(list_name)):
                for port in dicts(container.get("ports")):
                    if not port.get("hostPort"):
                        port["hostPort"] = port.get("containerPort")
