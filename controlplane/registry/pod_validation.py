"""PodSpec validation, shared by Pods and by the pod templates of Deployments and ReplicaSets.

This follows `ValidatePodSpec` in `k8s.io/kubernetes/pkg/apis/core/validation/validation.go` check by check and
in the same order, so a spec with several mistakes yields the same list of causes, in the same order, as the
real server. It expects a defaulted spec (restartPolicy, dnsPolicy, terminationGracePeriodSeconds... are
required here because the defaulter always sets them).

Covered: volumes (names, exactly one source, configMap/secret/hostPath/PVC sources, key-to-path items),
containers and init containers (names, images, ports, env and envFrom, volume mounts, pull policy, resources,
probes, lifecycle hooks, security context ids, host-port conflicts), restart and DNS policies, node selector,
pod security context ids, image pull secrets, DNS config, readiness and scheduling gates, service account and
node names, active deadline, hostname/subdomain, tolerations, host aliases, priority class, runtime class,
preemption policy, overhead and OS. Not covered: affinity terms, topology spread constraints, Windows options,
resource claims and sysctls, which are accepted as written.
"""

from __future__ import annotations

import posixpath
from typing import Any

from controlplane.errors import Cause
from controlplane.registry import field as f
from controlplane.registry.formats import (
    inclusive_range_error,
    is_config_map_key,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_env_var_name,
    is_http_header_name,
    is_qualified_name,
    is_valid_ip,
    is_valid_label_value,
    is_valid_port_name,
    is_valid_port_num,
    name_is_dns_subdomain,
)
from controlplane.registry.meta import (
    IS_NEGATIVE,
    validate_annotations,
    validate_label_name,
    validate_labels,
    validate_nonnegative,
)
from controlplane.registry.pod_defaults import volume_source_keys
from controlplane.registry.quantity import FORMAT_ERROR, Quantity, QuantityError, parse_quantity
from controlplane.registry.values import as_dict, as_int, as_list, as_str, dicts

MAX_INT32 = 2**31 - 1
FILE_MODE_MSG = "must be a number between 0 and 0777 (octal), both inclusive"
PROTOCOLS = ("SCTP", "TCP", "UDP")
PULL_POLICIES = ("Always", "IfNotPresent", "Never")
RESTART_POLICIES = ("Always", "OnFailure", "Never")
DNS_POLICIES = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
HOST_PATH_TYPES = (
    "",
    "BlockDevice",
    "CharDevice",
    "Directory",
    "DirectoryOrCreate",
    "File",
    "FileOrCreate",
    "Socket",
)
ENV_FIELD_PATHS = (
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
)
_DOWNWARD_LABELS = frozenset(
    {
        "metadata.annotations",
        "metadata.labels",
        "metadata.name",
        "metadata.namespace",
        "metadata.uid",
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.serviceAccountName",
        "spec.schedulerName",
        "status.phase",
        "status.hostIP",
        "status.hostIPs",
        "status.podIP",
        "status.podIPs",
    }
)
_CONTAINER_RESOURCE_FIELD_PATHS = (
    "limits.cpu",
    "limits.ephemeral-storage",
    "limits.memory",
    "requests.cpu",
    "requests.ephemeral-storage",
    "requests.memory",
)
_STANDARD_RESOURCES = frozenset(
    {
        "cpu",
        "memory",
        "ephemeral-storage",
        "requests.cpu",
        "requests.memory",
        "requests.ephemeral-storage",
        "limits.cpu",
        "limits.memory",
        "limits.ephemeral-storage",
        "pods",
        "resourcequotas",
        "services",
        "replicationcontrollers",
        "secrets",
        "configmaps",
        "persistentvolumeclaims",
        "storage",
        "requests.storage",
        "services.nodeports",
        "services.loadbalancers",
    }
)
_STANDARD_CONTAINER_RESOURCES = frozenset({"cpu", "memory", "ephemeral-storage"})


# ---- small helpers -------------------------------------------------------------------------------------------


def _is_hugepages(name: str) -> bool:
    return name.startswith("hugepages-")


def _is_native_resource(name: str) -> bool:
    return "/" not in name or "kubernetes.io/" in name


def _is_extended_resource(name: str) -> bool:
    if _is_native_resource(name) or name.startswith("requests."):
        return False
    return not is_qualified_name("requests." + name)


def _overcommit_allowed(name: str) -> bool:
    return _is_native_resource(name) and not _is_hugepages(name)


def _quantity(value: Any) -> Quantity | None:
    try:
        return parse_quantity(value)
    except (QuantityError, TypeError):
        return None


def _validate_port_num_or_name(port: Any, path: str) -> list[Cause]:
    if isinstance(port, str):
        return [f.invalid(path, port, msg) for msg in is_valid_port_name(port)]
    n = as_int(port) or 0
    return [f.invalid(path, n, msg) for msg in is_valid_port_num(n)]


def _validate_path_no_backsteps(target: str, path: str) -> list[Cause]:
    if ".." in target.replace("\\", "/").split("/"):
        return [f.invalid(path, target, "must not contain '..'")]
    return []


def _validate_local_descending_path(target: str, path: str) -> list[Cause]:
    causes = []
    if posixpath.isabs(target):
        causes.append(f.invalid(path, target, "must be a relative path"))
    return causes + _validate_path_no_backsteps(target, path)


def _validate_local_non_reserved_path(target: str, path: str) -> list[Cause]:
    causes = _validate_local_descending_path(target, path)
    if target.startswith("..") and not target.startswith("../"):
        causes.append(f.invalid(path, target, "must not start with '..'"))
    return causes


def _validate_file_mode(mode: Any, path: str) -> list[Cause]:
    n = as_int(mode)
    return [f.invalid(path, n, FILE_MODE_MSG)] if n is not None and not 0 <= n <= 0o777 else []


def _validate_key_to_paths(items: Any, path: str) -> list[Cause]:
    causes: list[Cause] = []
    for i, item in enumerate(dicts(items)):
        ipath = f.index(path, i)
        if not as_str(item.get("key")):
            causes.append(f.required(f.child(ipath, "key")))
        target = as_str(item.get("path"))
        if not target:
            causes.append(f.required(f.child(ipath, "path")))
        causes.extend(_validate_local_non_reserved_path(target, f.child(ipath, "path")))
        causes.extend(_validate_file_mode(item.get("mode"), f.child(ipath, "mode")))
    return causes


# ---- volumes -------------------------------------------------------------------------------------------------


def _validate_volume_source(volume: dict[str, Any], path: str) -> list[Cause]:
    causes: list[Cause] = []
    sources = volume_source_keys(volume)
    for extra in sources[1:]:
        causes.append(f.forbidden(f.child(path, extra), "may not specify more than 1 volume type"))
    if not sources:
        return [f.required(path, "must specify a volume type")]
    kind = sources[0]
    source = as_dict(volume[kind])
    spath = f.child(path, kind)
    if kind == "hostPath":
        host = as_str(source.get("path"))
        if not host:
            return [*causes, f.required(f.child(spath, "path"))]
        causes.extend(_validate_path_no_backsteps(host, f.child(spath, "path")))
        host_type = as_str(source.get("type"))
        if host_type not in HOST_PATH_TYPES:
            causes.append(f.not_supported(f.child(spath, "type"), host_type, HOST_PATH_TYPES))
    elif kind == "emptyDir":
        size = _quantity(source.get("sizeLimit")) if source.get("sizeLimit") is not None else None
        if size is not None and size.value < 0:
            causes.append(f.forbidden(f.child(spath, "sizeLimit"), "SizeLimit field must be a valid resource quantity"))
    elif kind in ("secret", "configMap"):
        name_field = "secretName" if kind == "secret" else "name"
        if not as_str(source.get(name_field)):
            causes.append(f.required(f.child(spath, name_field)))
        causes.extend(_validate_file_mode(source.get("defaultMode"), f.child(spath, "defaultMode")))
        causes.extend(_validate_key_to_paths(source.get("items"), f.child(spath, "items")))
    elif kind == "persistentVolumeClaim":
        if not as_str(source.get("claimName")):
            causes.append(f.required(f.child(spath, "claimName")))
    elif kind in ("downwardAPI", "projected"):
        causes.extend(_validate_file_mode(source.get("defaultMode"), f.child(spath, "defaultMode")))
    return causes


def validate_volumes(volumes: Any, path: str) -> tuple[dict[str, dict[str, Any]], list[Cause]]:
    """Returns the volumes that validated (by name), which mounts may reference, and the causes."""
    causes: list[Cause] = []
    valid: dict[str, dict[str, Any]] = {}
    for i, volume in enumerate(dicts(volumes)):
        vpath = f.index(path, i)
        name = as_str(volume.get("name"))
        errs = _validate_volume_source(volume, vpath)
        if not name:
            errs.append(f.required(f.child(vpath, "name")))
        else:
            errs.extend(f.invalid(f.child(vpath, "name"), name, msg) for msg in is_dns1123_label(name))
        if name in valid:
            errs.append(f.duplicate(f.child(vpath, "name"), name))
        if errs:
            causes.extend(errs)
        else:
            valid[name] = volume
    return valid, causes


# ---- containers ----------------------------------------------------------------------------------------------


def _validate_ports(ports: Any, path: str) -> list[Cause]:
    causes: list[Cause] = []
    names: set[str] = set()
    for i, port in enumerate(dicts(ports)):
        ppath = f.index(path, i)
        name = as_str(port.get("name"))
        if name:
            msgs = is_valid_port_name(name)
            if msgs:
                causes.extend(f.invalid(f.child(ppath, "name"), name, msg) for msg in msgs)
            elif name in names:
                causes.append(f.duplicate(f.child(ppath, "name"), name))
            else:
                names.add(name)
        container_port = as_int(port.get("containerPort")) or 0
        if container_port == 0:
            causes.append(f.required(f.child(ppath, "containerPort")))
        else:
            causes.extend(
                f.invalid(f.child(ppath, "containerPort"), container_port, m) for m in is_valid_port_num(container_port)
            )
        host_port = as_int(port.get("hostPort")) or 0
        if host_port != 0:
            causes.extend(f.invalid(f.child(ppath, "hostPort"), host_port, m) for m in is_valid_port_num(host_port))
        protocol = as_str(port.get("protocol"))
        if not protocol:
            causes.append(f.required(f.child(ppath, "protocol")))
        elif protocol not in PROTOCOLS:
            causes.append(f.not_supported(f.child(ppath, "protocol"), protocol, PROTOCOLS))
    return causes


def _validate_object_field_selector(ref: dict[str, Any], path: str) -> list[Cause]:
    api_version = as_str(ref.get("apiVersion"))
    field_path = as_str(ref.get("fieldPath"))
    if not api_version:
        return [f.required(f.child(path, "apiVersion"))]
    if not field_path:
        return [f.required(f.child(path, "fieldPath"))]
    base, subscript = field_path, None
    if field_path.endswith("']"):
        head, sep, tail = field_path[:-2].partition("['")
        if sep and head:
            base, subscript = head, tail
    if api_version != "v1":
        problem = f"unsupported pod version: {api_version}"
    elif subscript is not None and base not in ("metadata.annotations", "metadata.labels"):
        problem = f"field label does not support subscript: {field_path}"
    elif subscript is None and base not in _DOWNWARD_LABELS and base != "spec.host":
        problem = f"field label not supported: {field_path}"
    else:
        problem = ""
    if problem:
        return [f.invalid(f.child(path, "fieldPath"), field_path, f"error converting fieldPath: {problem}")]
    if subscript is not None:
        key = subscript.lower() if base == "metadata.annotations" else subscript
        return [f.invalid(path, key, msg) for msg in is_qualified_name(key)]
    base = "spec.nodeName" if base == "spec.host" else base
    if base not in ENV_FIELD_PATHS:
        return [f.not_supported(f.child(path, "fieldPath"), base, sorted(ENV_FIELD_PATHS))]
    return []


def _validate_key_selector(ref: dict[str, Any], path: str) -> list[Cause]:
    name = as_str(ref.get("name"))
    causes = [f.invalid(f.child(path, "name"), name, msg) for msg in name_is_dns_subdomain(name, False)]
    key = as_str(ref.get("key"))
    if not key:
        causes.append(f.required(f.child(path, "key")))
    else:
        causes.extend(f.invalid(f.child(path, "key"), key, msg) for msg in is_config_map_key(key))
    return causes


def _validate_env(env: Any, path: str) -> list[Cause]:
    causes: list[Cause] = []
    for i, var in enumerate(dicts(env)):
        vpath = f.index(path, i)
        name = as_str(var.get("name"))
        if not name:
            causes.append(f.required(f.child(vpath, "name")))
        else:
            causes.extend(f.invalid(f.child(vpath, "name"), name, msg) for msg in is_env_var_name(name))
        value_from = var.get("valueFrom")
        if value_from is None:
            continue
        value_from = as_dict(value_from)
        fpath = f.child(vpath, "valueFrom")
        sources = 0
        if isinstance(value_from.get("fieldRef"), dict):
            sources += 1
            causes.extend(_validate_object_field_selector(value_from["fieldRef"], f.child(fpath, "fieldRef")))
        if isinstance(value_from.get("resourceFieldRef"), dict):
            sources += 1
            resource = as_str(value_from["resourceFieldRef"].get("resource"))
            rpath = f.child(fpath, "resourceFieldRef", "resource")
            if not resource:
                causes.append(f.required(rpath))
            elif resource not in _CONTAINER_RESOURCE_FIELD_PATHS and not resource.startswith(
                ("requests.hugepages-", "limits.hugepages-")
            ):
                causes.append(f.not_supported(rpath, resource, _CONTAINER_RESOURCE_FIELD_PATHS))
        for selector in ("configMapKeyRef", "secretKeyRef"):
            if isinstance(value_from.get(selector), dict):
                sources += 1
                causes.extend(_validate_key_selector(value_from[selector], f.child(fpath, selector)))
        if sources == 0:
            causes.append(
                f.invalid(
                    fpath,
                    "",
                    "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
                )
            )
        elif as_str(var.get("value")):
            causes.append(f.invalid(fpath, "", "may not be specified when `value` is not empty"))
        elif sources > 1:
            causes.append(f.invalid(fpath, "", "may not have more than one field specified at a time"))
    return causes


def _validate_env_from(env_from: Any, path: str) -> list[Cause]:
    causes: list[Cause] = []
    for i, source in enumerate(dicts(env_from)):
        spath = f.index(path, i)
        prefix = as_str(source.get("prefix"))
        if prefix:
            causes.extend(f.invalid(f.child(spath, "prefix"), prefix, msg) for msg in is_env_var_name(prefix))
        count = 0
        for ref in ("configMapRef", "secretRef"):
            if isinstance(source.get(ref), dict):
                count += 1
                name = as_str(source[ref].get("name"))
                rpath = f.child(spath, ref, "name")
                if not name:
                    causes.append(f.required(rpath))
                else:
                    causes.extend(f.invalid(rpath, name, msg) for msg in name_is_dns_subdomain(name, True))
        if count == 0:
            causes.append(f.invalid(path, "", "must specify one of: `configMapRef` or `secretRef`"))
        elif count > 1:
            causes.append(f.invalid(path, "", "may not have more than one field specified at a time"))
    return causes


def _validate_volume_mounts(mounts: Any, volumes: dict[str, dict[str, Any]], path: str) -> list[Cause]:
    causes: list[Cause] = []
    mount_points: set[str] = set()
    for i, mount in enumerate(dicts(mounts)):
        mpath = f.index(path, i)
        name = as_str(mount.get("name"))
        mount_path = as_str(mount.get("mountPath"))
        if not name:
            causes.append(f.required(f.child(mpath, "name")))
        if name not in volumes:
            causes.append(f.not_found(f.child(mpath, "name"), name))
        if not mount_path:
            causes.append(f.required(f.child(mpath, "mountPath")))
        if mount_path in mount_points:
            causes.append(f.invalid(f.child(mpath, "mountPath"), mount_path, "must be unique"))
        mount_points.add(mount_path)
        sub_path = as_str(mount.get("subPath"))
        sub_path_expr = as_str(mount.get("subPathExpr"))
        if sub_path:
            causes.extend(_validate_local_descending_path(sub_path, f.child(path, "subPath")))
        if sub_path_expr:
            if sub_path:
                causes.append(
                    f.invalid(
                        f.child(mpath, "subPathExpr"), sub_path_expr, "subPathExpr and subPath are mutually exclusive"
                    )
                )
            causes.extend(_validate_local_descending_path(sub_path_expr, f.child(path, "subPathExpr")))
    return causes


def _validate_resource_name(name: str, path: str) -> list[Cause]:
    causes = [f.invalid(path, name, msg) for msg in is_qualified_name(name)]
    if not causes and "/" not in name and name not in _STANDARD_RESOURCES and not _is_hugepages(name):
        causes.append(f.invalid(path, name, "must be a standard resource type or fully qualified"))
    if "/" not in name:
        if name not in _STANDARD_CONTAINER_RESOURCES and not _is_hugepages(name):
            causes.append(f.invalid(path, name, "must be a standard resource for containers"))
    elif not _is_native_resource(name) and not _is_extended_resource(name):
        causes.append(f.invalid(path, name, "doesn't follow extended resource name standard"))
    return causes


def _validate_quantity_value(name: str, q: Quantity, path: str) -> list[Cause]:
    causes = []
    if q.value < 0:
        causes.append(f.invalid(path, str(q), IS_NEGATIVE))
    if _is_extended_resource(name) and q.milli_value() % 1000 != 0:
        causes.append(f.invalid(path, str(q), "must be an integer"))
    return causes


def validate_resource_requirements(resources: Any, path: str) -> list[Cause]:
    resources = as_dict(resources)
    causes: list[Cause] = []
    limits_path, requests_path = f.child(path, "limits"), f.child(path, "requests")
    limits = {k: q for k, v in as_dict(resources.get("limits")).items() if (q := _quantity(v)) is not None}
    requests = {k: q for k, v in as_dict(resources.get("requests")).items() if (q := _quantity(v)) is not None}
    compute = {"cpu", "memory"}
    for name, q in sorted(limits.items()):
        rpath = f.key(limits_path, name)
        causes.extend(_validate_resource_name(name, rpath))
        causes.extend(_validate_quantity_value(name, q, rpath))
    for name, q in sorted(requests.items()):
        rpath = f.key(requests_path, name)
        causes.extend(_validate_resource_name(name, rpath))
        causes.extend(_validate_quantity_value(name, q, rpath))
        limit = limits.get(name)
        if limit is not None:
            if q != limit and not _overcommit_allowed(name):
                causes.append(f.invalid(requests_path, str(q), f"must be equal to {name} limit of {limit}"))
            elif q > limit:
                causes.append(
                    f.invalid(requests_path, str(q), f"must be less than or equal to {name} limit of {limit}")
                )
        elif not _overcommit_allowed(name):
            causes.append(f.required(limits_path, "Limit must be set for non overcommitable resources"))
    hugepages = any(_is_hugepages(n) for n in (*limits, *requests))
    if hugepages and not compute & {*limits, *requests}:
        causes.append(f.forbidden(path, "HugePages require cpu or memory"))
    return causes


def _validate_handler(handler: dict[str, Any], grace: int | None, path: str, *, probe: bool) -> list[Cause]:
    kinds = ("exec", "httpGet", "tcpSocket", "grpc") if probe else ("exec", "httpGet", "tcpSocket", "sleep")
    causes: list[Cause] = []
    count = 0
    for kind in kinds:
        action = handler.get(kind)
        if action is None:
            continue
        if count > 0:
            causes.append(f.forbidden(f.child(path, kind), "may not specify more than 1 handler type"))
            continue
        count += 1
        action = as_dict(action)
        apath = f.child(path, kind)
        if kind == "exec" and not as_list(action.get("command")):
            causes.append(f.required(f.child(apath, "command")))
        elif kind == "httpGet":
            if not as_str(action.get("path")):
                causes.append(f.required(f.child(apath, "path")))
            causes.extend(_validate_port_num_or_name(action.get("port"), f.child(apath, "port")))
            scheme = as_str(action.get("scheme"))
            if scheme not in ("HTTP", "HTTPS"):
                causes.append(f.not_supported(f.child(apath, "scheme"), scheme, ("HTTP", "HTTPS")))
            for header in dicts(action.get("httpHeaders")):
                hname = as_str(header.get("name"))
                causes.extend(f.invalid(f.child(apath, "httpHeaders"), hname, m) for m in is_http_header_name(hname))
        elif kind == "tcpSocket":
            causes.extend(_validate_port_num_or_name(action.get("port"), f.child(apath, "port")))
        elif kind == "grpc":
            causes.extend(_validate_port_num_or_name(as_int(action.get("port")) or 0, f.child(apath, "port")))
        elif kind == "sleep":
            seconds = as_int(action.get("seconds")) or 0
            if grace is not None and not 0 < seconds <= grace:
                causes.append(
                    f.invalid(
                        apath,
                        seconds,
                        f"must be greater than 0 and less than terminationGracePeriodSeconds ({grace}). Enable "
                        "AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep.",
                    )
                )
    if count == 0:
        causes.append(f.required(path, "must specify a handler type"))
    return causes


def _validate_probe(probe: Any, grace: int | None, path: str, kind: str) -> list[Cause]:
    if probe is None:
        return []
    probe = as_dict(probe)
    causes = _validate_handler(probe, grace, path, probe=True)
    for name in ("initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"):
        causes.extend(validate_nonnegative(probe.get(name), f.child(path, name)))
    probe_grace = as_int(probe.get("terminationGracePeriodSeconds"))
    if probe_grace is not None and probe_grace <= 0:
        causes.append(f.invalid(f.child(path, "terminationGracePeriodSeconds"), probe_grace, "must be greater than 0"))
    if kind in ("livenessProbe", "startupProbe") and probe.get("successThreshold") != 1:
        causes.append(f.invalid(f.child(path, "successThreshold"), probe.get("successThreshold"), "must be 1"))
    if kind == "readinessProbe" and probe.get("terminationGracePeriodSeconds") is not None:
        causes.append(
            f.invalid(
                f.child(path, "terminationGracePeriodSeconds"), probe_grace, "must not be set for readinessProbes"
            )
        )
    return causes


def _validate_lifecycle(lifecycle: Any, grace: int | None, path: str) -> list[Cause]:
    causes: list[Cause] = []
    for hook in ("postStart", "preStop"):
        handler = as_dict(lifecycle).get(hook)
        if handler is not None:
            causes.extend(_validate_handler(as_dict(handler), grace, f.child(path, hook), probe=False))
    return causes


def _validate_id_range(value: Any, path: str) -> list[Cause]:
    n = as_int(value)
    if n is None or 0 <= n <= MAX_INT32:
        return []
    return [f.invalid(path, n, inclusive_range_error(0, MAX_INT32))]


def _validate_seccomp(profile: Any, path: str) -> list[Cause]:
    if profile is None:
        return []
    profile = as_dict(profile)
    kind = as_str(profile.get("type"))
    localhost = profile.get("localhostProfile")
    if kind == "Localhost":
        if localhost is None:
            return [f.required(f.child(path, "localhostProfile"), "must be set when seccomp type is Localhost")]
        return _validate_local_descending_path(as_str(localhost), f.child(path, "localhostProfile"))
    if localhost is not None:
        return [
            f.invalid(
                f.child(path, "localhostProfile"), as_str(localhost), "can only be set when seccomp type is Localhost"
            )
        ]
    if not kind:
        return [f.required(f.child(path, "type"))]
    if kind not in ("RuntimeDefault", "Unconfined"):
        return [f.not_supported(f.child(path, "type"), kind, ("Localhost", "RuntimeDefault", "Unconfined"))]
    return []


def _validate_security_context(sc: Any, path: str) -> list[Cause]:
    if sc is None:
        return []
    sc = as_dict(sc)
    causes = _validate_id_range(sc.get("runAsUser"), f.child(path, "runAsUser"))
    causes.extend(_validate_id_range(sc.get("runAsGroup"), f.child(path, "runAsGroup")))
    proc_mount = sc.get("procMount")
    if proc_mount is not None and proc_mount not in ("Default", "Unmasked"):
        causes.append(f.not_supported(f.child(path, "procMount"), as_str(proc_mount), ("Default", "Unmasked")))
    causes.extend(_validate_seccomp(sc.get("seccompProfile"), f.child(path, "seccompProfile")))
    return causes


def _validate_container_common(container: dict[str, Any], volumes: dict[str, dict[str, Any]], path: str) -> list[Cause]:
    causes: list[Cause] = []
    name = as_str(container.get("name"))
    if not name:
        causes.append(f.required(f.child(path, "name")))
    else:
        causes.extend(f.invalid(f.child(path, "name"), name, msg) for msg in is_dns1123_label(name))
    if not as_str(container.get("image")):
        causes.append(f.required(f.child(path, "image")))
    policy = as_str(container.get("terminationMessagePolicy"))
    if not policy:
        causes.append(f.required(f.child(path, "terminationMessagePolicy")))
    elif policy not in ("File", "FallbackToLogsOnError"):
        causes.append(
            f.not_supported(f.child(path, "terminationMessagePolicy"), policy, ("File", "FallbackToLogsOnError"))
        )
    causes.extend(_validate_ports(container.get("ports"), f.child(path, "ports")))
    causes.extend(_validate_env(container.get("env"), f.child(path, "env")))
    causes.extend(_validate_env_from(container.get("envFrom"), f.child(path, "envFrom")))
    causes.extend(_validate_volume_mounts(container.get("volumeMounts"), volumes, f.child(path, "volumeMounts")))
    pull = as_str(container.get("imagePullPolicy"))
    if not pull:
        causes.append(f.required(f.child(path, "imagePullPolicy")))
    elif pull not in PULL_POLICIES:
        causes.append(f.not_supported(f.child(path, "imagePullPolicy"), pull, PULL_POLICIES))
    causes.extend(validate_resource_requirements(container.get("resources"), f.child(path, "resources")))
    causes.extend(_validate_security_context(container.get("securityContext"), f.child(path, "securityContext")))
    return causes


def _host_port_conflicts(containers: list[dict[str, Any]], path: str, seen: set[str]) -> list[Cause]:
    causes: list[Cause] = []
    for ci, container in enumerate(containers):
        for pi, port in enumerate(dicts(container.get("ports"))):
            host_port = as_int(port.get("hostPort")) or 0
            if host_port == 0:
                continue
            key = f"{as_str(port.get('protocol'))}/{as_str(port.get('hostIP'))}/{host_port}"
            if key in seen:
                causes.append(f.duplicate(f.child(f.index(f.child(f.index(path, ci), "ports"), pi), "hostPort"), key))
            else:
                seen.add(key)
    return causes


def _validate_containers(
    containers: list[dict[str, Any]], volumes: dict[str, dict[str, Any]], grace: int | None, path: str
) -> list[Cause]:
    if not containers:
        return [f.required(path)]
    causes: list[Cause] = []
    names: set[str] = set()
    for i, container in enumerate(containers):
        cpath = f.index(path, i)
        causes.extend(_validate_container_common(container, volumes, cpath))
        name = as_str(container.get("name"))
        if name in names:
            causes.append(f.duplicate(f.child(cpath, "name"), name))
        else:
            names.add(name)
        if container.get("lifecycle") is not None:
            causes.extend(_validate_lifecycle(container["lifecycle"], grace, f.child(cpath, "lifecycle")))
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            causes.extend(_validate_probe(container.get(probe), grace, f.child(cpath, probe), probe))
        if container.get("restartPolicy") is not None:
            causes.append(f.forbidden(f.child(cpath, "restartPolicy"), "may not be set for non-init containers"))
    return causes + _host_port_conflicts(containers, path, set())


def _validate_init_containers(
    inits: list[dict[str, Any]],
    containers: list[dict[str, Any]],
    volumes: dict[str, dict[str, Any]],
    grace: int | None,
    path: str,
) -> list[Cause]:
    causes: list[Cause] = []
    names = {as_str(c.get("name")) for c in containers}
    for i, container in enumerate(inits):
        cpath = f.index(path, i)
        causes.extend(_validate_container_common(container, volumes, cpath))
        restartable = False
        if container.get("restartPolicy") is not None:
            policy = as_str(container.get("restartPolicy"))
            if policy != "Always":
                causes.append(f.not_supported(f.child(cpath, "restartPolicy"), policy, ("Always",)))
            restartable = policy == "Always"
        name = as_str(container.get("name"))
        if name in names:
            causes.append(f.duplicate(f.child(cpath, "name"), name))
        elif name:
            names.add(name)
        causes.extend(_host_port_conflicts([container], path, set()))
        if restartable:
            if container.get("lifecycle") is not None:
                causes.extend(_validate_lifecycle(container["lifecycle"], grace, f.child(cpath, "lifecycle")))
            for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                causes.extend(_validate_probe(container.get(probe), grace, f.child(cpath, probe), probe))
        else:
            for member in ("lifecycle", "livenessProbe", "readinessProbe", "startupProbe"):
                if container.get(member) is not None:
                    causes.append(
                        f.forbidden(
                            f.child(cpath, member), "may not be set for init containers without restartPolicy=Always"
                        )
                    )
    return causes


# ---- the rest of the spec ------------------------------------------------------------------------------------


def _validate_pod_security_context(sc: Any, spec: dict[str, Any], path: str) -> list[Cause]:
    if sc is None:
        return []
    sc = as_dict(sc)
    causes = _validate_id_range(sc.get("fsGroup"), f.child(path, "fsGroup"))
    causes.extend(_validate_id_range(sc.get("runAsUser"), f.child(path, "runAsUser")))
    causes.extend(_validate_id_range(sc.get("runAsGroup"), f.child(path, "runAsGroup")))
    for i, gid in enumerate(as_list(sc.get("supplementalGroups"))):
        causes.extend(_validate_id_range(gid, f.index(f.child(path, "supplementalGroups"), i)))
    if spec.get("shareProcessNamespace") is True and spec.get("hostPID") is True:
        causes.append(
            f.invalid(
                f.child(path, "shareProcessNamespace"), True, "ShareProcessNamespace and HostPID cannot both be enabled"
            )
        )
    policy = sc.get("fsGroupChangePolicy")
    if policy is not None and policy not in ("Always", "OnRootMismatch"):
        causes.append(
            f.not_supported(f.child(path, "fsGroupChangePolicy"), as_str(policy), ("Always", "OnRootMismatch"))
        )
    causes.extend(_validate_seccomp(sc.get("seccompProfile"), f.child(path, "seccompProfile")))
    return causes


def _validate_dns_config(config: Any, policy: str, path: str) -> list[Cause]:
    if policy == "None":
        if config is None:
            return [f.required(path, "must provide `dnsConfig` when `dnsPolicy` is None")]
        if not as_list(as_dict(config).get("nameservers")):
            return [
                f.required(
                    f.child(path, "nameservers"), "must provide at least one DNS nameserver when `dnsPolicy` is None"
                )
            ]
    if config is None:
        return []
    config = as_dict(config)
    causes: list[Cause] = []
    nameservers = [as_str(n) for n in as_list(config.get("nameservers"))]
    if len(nameservers) > 3:
        causes.append(
            f.invalid(
                f.child(path, "nameservers"), f.go_string_slice(nameservers), "must not have more than 3 nameservers"
            )
        )
    for i, ns in enumerate(nameservers):
        causes.extend(f.invalid(f.index(f.child(path, "nameservers"), i), ns, m) for m in is_valid_ip(ns))
    searches = [as_str(s) for s in as_list(config.get("searches"))]
    if len(searches) > 32:
        causes.append(
            f.invalid(f.child(path, "searches"), f.go_string_slice(searches), "must not have more than 32 search paths")
        )
    if len(" ".join(searches)) > 2048:
        causes.append(
            f.invalid(
                f.child(path, "searches"),
                f.go_string_slice(searches),
                "must not have more than 2048 characters (including spaces) in the search list",
            )
        )
    for i, search in enumerate(searches):
        trimmed = search.removesuffix(".")
        causes.extend(
            f.invalid(f.index(f.child(path, "searches"), i), trimmed, m) for m in is_dns1123_subdomain(trimmed)
        )
    for i, option in enumerate(dicts(config.get("options"))):
        if not as_str(option.get("name")):
            causes.append(f.required(f.index(f.child(path, "options"), i), "must not be empty"))
    return causes


def validate_tolerations(tolerations: Any, path: str) -> list[Cause]:
    causes: list[Cause] = []
    for i, toleration in enumerate(dicts(tolerations)):
        tpath = f.index(path, i)
        key = as_str(toleration.get("key"))
        operator = as_str(toleration.get("operator"))
        value = as_str(toleration.get("value"))
        effect = as_str(toleration.get("effect"))
        if key:
            causes.extend(validate_label_name(key, f.child(tpath, "key")))
        if not key and operator != "Exists":
            causes.append(
                f.invalid(
                    f.child(tpath, "operator"),
                    operator,
                    'operator must be Exists when `key` is empty, which means "match all values and all keys"',
                )
            )
        if toleration.get("tolerationSeconds") is not None and effect != "NoExecute":
            causes.append(
                f.invalid(
                    f.child(tpath, "effect"), effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"
                )
            )
        if operator in ("Equal", ""):
            msgs = is_valid_label_value(value)
            if msgs:
                causes.append(f.invalid(f.child(tpath, "operator"), value, ";".join(msgs)))
        elif operator == "Exists":
            if value:
                causes.append(
                    f.invalid(f.child(tpath, "operator"), value, "value must be empty when `operator` is 'Exists'")
                )
        else:
            causes.append(f.not_supported(f.child(tpath, "operator"), operator, ("Equal", "Exists")))
        if effect and effect not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
            causes.append(
                f.not_supported(f.child(tpath, "effect"), effect, ("NoSchedule", "PreferNoSchedule", "NoExecute"))
            )
    return causes


def _validate_subdomain_name(spec: dict[str, Any], member: str, path: str) -> list[Cause]:
    value = as_str(spec.get(member))
    if not value:
        return []
    return [f.invalid(f.child(path, member), value, m) for m in name_is_dns_subdomain(value, False)]


def _validate_scheduling_fields(spec: dict[str, Any], path: str) -> list[Cause]:
    """serviceAccountName through priorityClassName, in upstream's order."""
    causes = _validate_subdomain_name(spec, "serviceAccountName", path)
    causes.extend(_validate_subdomain_name(spec, "nodeName", path))
    deadline = spec.get("activeDeadlineSeconds")
    if deadline is not None:
        n = as_int(deadline)
        if n is None or not 1 <= n <= MAX_INT32:
            causes.append(f.invalid(f.child(path, "activeDeadlineSeconds"), n, inclusive_range_error(1, MAX_INT32)))
    for label in ("hostname", "subdomain"):
        text = as_str(spec.get(label))
        if text:
            causes.extend(f.invalid(f.child(path, label), text, m) for m in is_dns1123_label(text))
    if spec.get("tolerations"):
        causes.extend(validate_tolerations(spec["tolerations"], f.child(path, "tolerations")))
    for i, alias in enumerate(dicts(spec.get("hostAliases"))):
        apath = f.index(f.child(path, "hostAliases"), i)
        ip = as_str(alias.get("ip"))
        causes.extend(f.invalid(f.child(apath, "ip"), ip, m) for m in is_valid_ip(ip))
        for j, hostname in enumerate(as_list(alias.get("hostnames"))):
            hostname = as_str(hostname)
            hpath = f.index(f.child(apath, "hostnames"), j)
            causes.extend(f.invalid(hpath, hostname, m) for m in is_dns1123_subdomain(hostname))
    causes.extend(_validate_subdomain_name(spec, "priorityClassName", path))
    return causes


def validate_pod_spec(spec: Any, path: str, *, is_pod: bool) -> list[Cause]:
    spec = as_dict(spec)
    causes: list[Cause] = []
    grace = as_int(spec.get("terminationGracePeriodSeconds"))
    if spec.get("terminationGracePeriodSeconds") is None:
        causes.append(f.required(f.child(path, "terminationGracePeriodSeconds")))
    volumes, volume_causes = validate_volumes(spec.get("volumes"), f.child(path, "volumes"))
    causes.extend(volume_causes)
    containers = dicts(spec.get("containers"))
    causes.extend(_validate_containers(containers, volumes, grace, f.child(path, "containers")))
    causes.extend(
        _validate_init_containers(
            dicts(spec.get("initContainers")), containers, volumes, grace, f.child(path, "initContainers")
        )
    )
    if spec.get("hostNetwork") is True:
        for ci, container in enumerate(containers):
            for pi, port in enumerate(dicts(container.get("ports"))):
                host_port, container_port = as_int(port.get("hostPort")) or 0, as_int(port.get("containerPort")) or 0
                if (is_pod or host_port != 0) and host_port != container_port:
                    ppath = f.index(f.child(f.index(f.child(path, "containers"), ci), "ports"), pi)
                    causes.append(
                        f.invalid(
                            f.child(ppath, "hostPort"),
                            host_port,
                            "must match `containerPort` when `hostNetwork` is true",
                        )
                    )
    restart = as_str(spec.get("restartPolicy"))
    if not restart:
        causes.append(f.required(f.child(path, "restartPolicy")))
    elif restart not in RESTART_POLICIES:
        causes.append(f.not_supported(f.child(path, "restartPolicy"), restart, RESTART_POLICIES))
    dns = as_str(spec.get("dnsPolicy"))
    if not dns:
        causes.append(f.required(f.child(path, "dnsPolicy")))
    elif dns not in DNS_POLICIES:
        causes.append(f.not_supported(f.child(path, "dnsPolicy"), dns, DNS_POLICIES))
    causes.extend(validate_labels(spec.get("nodeSelector"), f.child(path, "nodeSelector")))
    causes.extend(_validate_pod_security_context(spec.get("securityContext"), spec, f.child(path, "securityContext")))
    causes.extend(_validate_dns_config(spec.get("dnsConfig"), dns, f.child(path, "dnsConfig")))
    for i, gate in enumerate(dicts(spec.get("readinessGates"))):
        condition = as_str(gate.get("conditionType"))
        gpath = f.child(f.index(f.child(path, "readinessGates"), i), "conditionType")
        causes.extend(f.invalid(gpath, condition, m) for m in is_qualified_name(condition))
    seen_gates: set[str] = set()
    for i, gate in enumerate(dicts(spec.get("schedulingGates"))):
        name = as_str(gate.get("name"))
        gpath = f.index(f.child(path, "schedulingGates"), i)
        causes.extend(f.invalid(gpath, name, m) for m in is_qualified_name(name))
        if name in seen_gates:
            causes.append(f.duplicate(gpath, name))
        seen_gates.add(name)
    causes.extend(_validate_scheduling_fields(spec, path))
    runtime_class = spec.get("runtimeClassName")
    if runtime_class is not None:
        rc = as_str(runtime_class)
        causes.extend(f.invalid(f.child(path, "runtimeClassName"), rc, m) for m in name_is_dns_subdomain(rc, False))
    preemption = spec.get("preemptionPolicy")
    if preemption is not None:
        pp = as_str(preemption)
        if not pp:
            causes.append(f.required(f.child(path, "preemptionPolicy")))
        elif pp not in ("PreemptLowerPriority", "Never"):
            causes.append(f.not_supported(f.child(path, "preemptionPolicy"), pp, ("PreemptLowerPriority", "Never")))
    if spec.get("overhead") is not None:
        causes.extend(validate_resource_requirements({"limits": spec["overhead"]}, f.child(path, "overhead")))
    os_name = as_dict(spec.get("os")).get("name") if spec.get("os") is not None else None
    if os_name is not None and os_name not in ("linux", "windows"):
        causes.append(f.not_supported(f.child(path, "os", "name"), as_str(os_name), ("linux", "windows")))
    return causes


def validate_pod_template_spec(template: Any, path: str) -> list[Cause]:
    """`ValidatePodTemplateSpec`. Note upstream's paths: the template's labels are reported at
    `<path>.labels`, not `<path>.metadata.labels`."""
    template = as_dict(template)
    meta = as_dict(template.get("metadata"))
    causes = validate_labels(meta.get("labels"), f.child(path, "labels"))
    causes.extend(validate_annotations(meta.get("annotations"), f.child(path, "annotations")))
    spec = as_dict(template.get("spec"))
    causes.extend(validate_pod_spec(spec, f.child(path, "spec"), is_pod=False))
    if as_list(spec.get("ephemeralContainers")):
        causes.append(
            f.forbidden(
                f.child(path, "spec", "ephemeralContainers"), "ephemeral containers not allowed in pod template"
            )
        )
    return causes


def quantity_problem(spec: Any) -> str | None:
    """The decoder's complaint about the first malformed quantity in a PodSpec, if any."""
    spec = as_dict(spec)
    values: list[Any] = []
    for list_name in ("initContainers", "containers", "ephemeralContainers"):
        for container in dicts(spec.get(list_name)):
            resources = as_dict(container.get("resources"))
            values.extend(as_dict(resources.get("limits")).values())
            values.extend(as_dict(resources.get("requests")).values())
            for env in dicts(container.get("env")):
                divisor = as_dict(as_dict(env.get("valueFrom")).get("resourceFieldRef")).get("divisor")
                if divisor is not None:
                    values.append(divisor)
    values.extend(as_dict(spec.get("overhead")).values())
    for volume in dicts(spec.get("volumes")):
        size = as_dict(volume.get("emptyDir")).get("sizeLimit")
        if size is not None:
            values.append(size)
    for value in values:
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            return FORMAT_ERROR
        try:
            parse_quantity(value)
        except QuantityError as err:
            return str(err)
    return None
