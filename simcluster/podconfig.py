"""A container's configuration as the kubelet assembles it before starting it: environment from values,
ConfigMaps, Secrets and the pod's own fields, and the ConfigMap/Secret volumes it mounts. Pure: objects are
looked up through a function.

What goes wrong is worded as the kubelet words it: a missing ConfigMap or Secret referenced by env/envFrom is
`configmap "x" not found` / `secret "x" not found` (the container waits in CreateContainerConfigError), a
missing key `couldn't find key k in ConfigMap ns/x`; a missing volume source is
`MountVolume.SetUp failed for volume "v" : configmap "x" not found` (the pod stays in ContainerCreating).
References marked `optional: true` are skipped when missing.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# (kind, name) -> the object in the pod's namespace, or None. kind is "ConfigMap" or "Secret".
Lookup = Callable[[str, str], dict[str, Any] | None]

_KINDS = {"configMap": "ConfigMap", "secret": "Secret"}
_VAR_REFERENCE = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)|\$\$")


@dataclass(frozen=True)
class ConfigError:
    message: str


def _data(kind: str, obj: dict[str, Any], *, binary: bool = False) -> dict[str, str]:
    """The object's values as text (a Secret's are base64 in the API). A ConfigMap's binaryData is only there
    for volumes (`binary`), never for the environment."""
    if kind == "ConfigMap":
        values = {k: str(v) for k, v in (obj.get("data") or {}).items()}
        if binary:
            values.update({k: "" for k in obj.get("binaryData") or {} if k not in values})
        return values
    decoded: dict[str, str] = {}
    for key, value in (obj.get("data") or {}).items():
        try:
            decoded[key] = base64.b64decode(str(value)).decode("utf-8", errors="replace")
        except (binascii.Error, ValueError):
            decoded[key] = ""
    decoded.update({k: str(v) for k, v in (obj.get("stringData") or {}).items()})
    return decoded


def _missing(kind: str, name: str) -> str:
    return f'{kind.lower()} "{name}" not found'


def _field(pod: dict[str, Any], path: str) -> str:
    meta, spec, status = pod.get("metadata", {}), pod.get("spec", {}), pod.get("status", {})
    simple = {
        "metadata.name": meta.get("name", ""), "metadata.namespace": meta.get("namespace", ""),
        "metadata.uid": meta.get("uid", ""), "spec.nodeName": spec.get("nodeName", ""),
        "spec.serviceAccountName": spec.get("serviceAccountName", ""), "status.hostIP": status.get("hostIP", ""),
        "status.podIP": status.get("podIP", ""),
    }
    if path in simple:
        return str(simple[path])
    match = re.fullmatch(r"metadata\.(labels|annotations)\['(.+)'\]", path)
    if match:
        return str((meta.get(match.group(1)) or {}).get(match.group(2), ""))
    return ""


def expand(value: str, env: dict[str, str]) -> str:
    """`$(VAR)` expansion as the kubelet does it: defined variables are replaced, `$$` escapes a `$`, anything
    else stays as written."""
    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        return env.get(match.group(1), match.group(0))

    return _VAR_REFERENCE.sub(replace, value)


def resolve_env(pod: dict[str, Any], container: dict[str, Any], lookup: Lookup) -> dict[str, str] | ConfigError:
    """The container's environment (envFrom first, then env, later entries winning), or why it cannot start."""
    namespace = pod.get("metadata", {}).get("namespace", "")
    env: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        prefix = str(source.get("prefix") or "")
        for member, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
            ref = source.get(member)
            if not isinstance(ref, dict):
                continue
            obj = lookup(kind, str(ref.get("name", "")))
            if obj is None:
                if ref.get("optional"):
                    continue
                return ConfigError(_missing(kind, str(ref.get("name", ""))))
            env.update({prefix + k: v for k, v in _data(kind, obj).items()})
    for entry in container.get("env") or []:
        name = str(entry.get("name", ""))
        if "valueFrom" not in entry:
            env[name] = expand(str(entry.get("value") or ""), env)
            continue
        value_from = entry["valueFrom"] or {}
        if "fieldRef" in value_from:
            env[name] = _field(pod, str(value_from["fieldRef"].get("fieldPath", "")))
            continue
        for member, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
            ref = value_from.get(member)
            if not isinstance(ref, dict):
                continue
            ref_name, key = str(ref.get("name", "")), str(ref.get("key", ""))
            obj = lookup(kind, ref_name)
            if obj is None:
                if ref.get("optional"):
                    break
                return ConfigError(_missing(kind, ref_name))
            data = _data(kind, obj)
            if key not in data:
                if ref.get("optional"):
                    break
                return ConfigError(f"couldn't find key {key} in {kind} {namespace}/{ref_name}")
            env[name] = data[key]
            break
        else:
            env[name] = ""  # resourceFieldRef: the simulation has no cgroup values to report
    return env


def volume_errors(pod: dict[str, Any], lookup: Lookup) -> list[str]:
    """FailedMount messages for the pod's ConfigMap/Secret volumes (projected ones included) that cannot be set
    up, in the pod's volume order."""
    messages: list[str] = []
    for volume in pod.get("spec", {}).get("volumes") or []:
        name = str(volume.get("name", ""))
        sources: list[tuple[str, dict[str, Any]]] = []
        for member, kind in _KINDS.items():
            if isinstance(volume.get(member), dict):
                sources.append((kind, volume[member]))
        for projected in (volume.get("projected") or {}).get("sources") or []:
            for member, kind in _KINDS.items():
                if isinstance(projected.get(member), dict):
                    sources.append((kind, projected[member]))
        problems: list[str] = []
        for kind, source in sources:
            ref = str(source.get("name") or source.get("secretName") or "")
            obj = lookup(kind, ref)
            if obj is None:
                if not source.get("optional"):
                    problems.append(_missing(kind, ref))
                continue
            data = _data(kind, obj, binary=True)
            for item in source.get("items") or []:
                key = str(item.get("key", ""))
                if key not in data and not source.get("optional"):
                    what = "configmap references non-existent config key" if kind == "ConfigMap" else (
                        "references non-existent secret key")
                    problems.append(f"{what}: {key}")
                    break
        if problems:
            # A projected volume sets up all its sources at once and reports what failed together.
            detail = problems[0] if len(problems) == 1 else "[" + ", ".join(problems) + "]"
            messages.append(f'MountVolume.SetUp failed for volume "{name}" : {detail}')
    return messages
