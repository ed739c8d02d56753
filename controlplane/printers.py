"""Server-side `meta.k8s.io/v1 Table` rendering, column for column as kube-apiserver 1.32 produces it.

`kubectl get` does not format objects itself: it asks for `application/json;as=Table;v=v1;g=meta.k8s.io` and
prints the cells the server computed. So the familiar `READY 0/1  STATUS CrashLoopBackOff  RESTARTS 5 (30s
ago)` lines are the API server's job, and users compare them with what a real cluster shows. Each printer
below reproduces the corresponding printer of `pkg/printers/internalversion` (column names, order, types,
`-o wide` priorities and the exact cell text), including the subtle pod STATUS derivation and kubectl's
human-readable durations. Column descriptions are Canopy's own short wording; clients never display them.

The server always renders the wide columns; kubectl hides priority-1 columns unless `-o wide` is given.
Resources without a dedicated printer get the table the real server gives custom resources without
`additionalPrinterColumns`: NAME and AGE.

Pure functions only: the caller supplies `now`, so output is deterministic and testable.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from api.registry import ResourceType
from api.types import OwnType, own_type
from controlplane.errors import StatusError, bad_request
from controlplane.selectors import format_labels, from_label_selector_object, go_quote

Cell = str | int | None
Obj = Mapping[str, Any]

# --------------------------------------------------------------------------------------------------------------
# Durations and timestamps
# --------------------------------------------------------------------------------------------------------------

_MICROSECOND = timedelta(microseconds=1)


def _whole_seconds(d: timedelta) -> int:
    """Seconds truncated toward zero, like Go's `int(d.Seconds())`."""
    micros = d // _MICROSECOND
    seconds = abs(micros) // 1_000_000
    return seconds if micros >= 0 else -seconds


def human_duration(d: timedelta) -> str:
    """kubectl's `duration.HumanDuration`: about two significant figures (`90s`, `5m30s`, `3h20m`, `2d3h`).

    Up to one second in the future still reads `0s` (clock skew); anything further is `<invalid>`.
    """
    seconds = _whole_seconds(d)
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        rest = seconds % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = seconds // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if hours < 24 * 8:
        rest = hours % 24
        return f"{days}d" if rest == 0 else f"{days}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{days}d"
    years = days // 365
    if hours < 24 * 365 * 8:
        rest = days % 365
        return f"{years}y" if rest == 0 else f"{years}y{rest}d"
    return f"{years}y"


def short_human_duration(d: timedelta) -> str:
    """kubectl's `duration.ShortHumanDuration`: a single unit (`59s`, `59m`, `23h`, `364d`, `2y`)."""
    seconds = _whole_seconds(d)
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    hours = seconds // 3600
    if hours < 24:
        return f"{hours}h"
    if hours < 24 * 365:
        return f"{hours // 24}d"
    return f"{hours // (24 * 365)}y"


def parse_time(value: object) -> datetime | None:
    """An RFC 3339 timestamp as stored in objects, or None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _aware(now: datetime) -> datetime:
    return now if now.tzinfo else now.replace(tzinfo=UTC)


def age(value: object, now: datetime) -> str:
    """How long ago `value` was, as the AGE column shows it; `<unknown>` when there is no timestamp."""
    moment = parse_time(value)
    if moment is None:
        return "<unknown>"
    return human_duration(_aware(now) - moment)


# --------------------------------------------------------------------------------------------------------------
# Columns
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str
    priority: int = 0
    format: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        }


def _name_column(priority: int = 0) -> Column:
    return Column("Name", "string", "Name of the object, unique within its namespace.", priority, "name")


_AGE = Column("Age", "string", "Time since the object was created.")
_CONTAINERS = Column("Containers", "string", "Names of the containers in the pod template.", 1)
_IMAGES = Column("Images", "string", "Images of the containers in the pod template.", 1)


def _selector_column(what: str) -> Column:
    return Column("Selector", "string", f"Label selector of the {what}.", 1)


# --------------------------------------------------------------------------------------------------------------
# Pods
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PodSummary:
    """The READY, STATUS and RESTARTS cells of a pod, as `kubectl get pods` shows them."""

    ready: str
    status: str
    restarts: str


def _dict(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: object) -> Sequence[Any]:
    return value if isinstance(value, list) else []


def _later(current: datetime | None, candidate: datetime | None) -> datetime | None:
    if candidate is None:
        return current
    return candidate if current is None or current < candidate else current


def _last_finish(container_status: Obj) -> datetime | None:
    terminated = _dict(container_status.get("lastState")).get("terminated")
    return parse_time(terminated.get("finishedAt")) if isinstance(terminated, Mapping) else None


def _condition_true(status: Obj, condition_type: str) -> bool:
    """Whether the first condition of `condition_type` has status True (False when there is none)."""
    for condition in _list(status.get("conditions")):
        if _dict(condition).get("type") == condition_type:
            return _dict(condition).get("status") == "True"
    return False


def _has_ready_condition(status: Obj) -> bool:
    return any(
        _dict(c).get("type") == "Ready" and _dict(c).get("status") == "True"
        for c in _list(status.get("conditions"))
    )


def _terminated_reason(terminated: Obj, prefix: str) -> str:
    reason = str(terminated.get("reason") or "")
    if reason:
        return prefix + reason
    signal = int(terminated.get("signal") or 0)
    if signal:
        return f"{prefix}Signal:{signal}"
    return f"{prefix}ExitCode:{int(terminated.get('exitCode') or 0)}"


def pod_summary(pod: Obj, now: datetime) -> PodSummary:
    """Derive READY, STATUS and RESTARTS exactly as kubectl's pod printer does.

    STATUS starts from `status.reason` or the phase, is overridden by the first failing or pending init
    container (`Init:2/3`, `Init:CrashLoopBackOff`, `Init:ExitCode:1`...), then by the container statuses
    walked from last to first so the first container's waiting/terminated reason wins, and finally by
    `Terminating` (or `Unknown` for pods on a lost node) once a deletion timestamp is set. Sidecars
    (restartable init containers) count towards READY and RESTARTS like regular containers.
    """
    spec, status = _dict(pod.get("spec")), _dict(pod.get("status"))
    init_specs = [_dict(c) for c in _list(spec.get("initContainers"))]
    sidecars = {c.get("name") for c in init_specs if c.get("restartPolicy") == "Always"}
    total = len(_list(spec.get("containers"))) + sum(1 for c in init_specs if c.get("restartPolicy") == "Always")
    ready = 0
    restarts = sidecar_restarts = 0
    last_restart: datetime | None = None
    last_sidecar_restart: datetime | None = None

    phase = str(status.get("phase") or "")
    reason = str(status.get("reason") or "") or phase
    for condition in _list(status.get("conditions")):
        if _dict(condition).get("type") == "PodScheduled" and _dict(condition).get("reason") == "SchedulingGated":
            reason = "SchedulingGated"

    initializing = False
    for index, raw in enumerate(_list(status.get("initContainerStatuses"))):
        container = _dict(raw)
        count = int(container.get("restartCount") or 0)
        finished = _last_finish(container)
        restarts += count
        last_restart = _later(last_restart, finished)
        is_sidecar = container.get("name") in sidecars
        if is_sidecar:
            sidecar_restarts += count
            last_sidecar_restart = _later(last_sidecar_restart, finished)
        state = _dict(container.get("state"))
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if isinstance(terminated, Mapping) and int(terminated.get("exitCode") or 0) == 0:
            continue
        if is_sidecar and container.get("started") is True:
            ready += 1 if container.get("ready") else 0
            continue
        initializing = True
        if isinstance(terminated, Mapping):
            reason = _terminated_reason(terminated, "Init:")
        elif isinstance(waiting, Mapping) and waiting.get("reason") and waiting.get("reason") != "PodInitializing":
            reason = f"Init:{waiting['reason']}"
        else:
            reason = f"Init:{index}/{len(init_specs)}"
        break

    if not initializing or _condition_true(status, "Initialized"):
        restarts, last_restart = sidecar_restarts, last_sidecar_restart
        has_running = False
        for raw in reversed(_list(status.get("containerStatuses"))):
            container = _dict(raw)
            restarts += int(container.get("restartCount") or 0)
            last_restart = _later(last_restart, _last_finish(container))
            state = _dict(container.get("state"))
            terminated, waiting = state.get("terminated"), state.get("waiting")
            if isinstance(waiting, Mapping) and waiting.get("reason"):
                reason = str(waiting["reason"])
            elif isinstance(terminated, Mapping):
                reason = _terminated_reason(terminated, "")
            elif container.get("ready") and isinstance(state.get("running"), Mapping):
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if _has_ready_condition(status) else "NotReady"

    if _dict(pod.get("metadata")).get("deletionTimestamp"):
        if status.get("reason") == "NodeLost":
            reason = "Unknown"
        elif phase not in ("Failed", "Succeeded"):
            reason = "Terminating"

    restarts_cell = str(restarts)
    if restarts and last_restart is not None:
        restarts_cell = f"{restarts} ({human_duration(_aware(now) - last_restart)} ago)"
    return PodSummary(f"{ready}/{total}", reason, restarts_cell)


_POD_COLUMNS = (
    _name_column(),
    Column("Ready", "string", "Ready containers out of all containers of the pod."),
    Column("Status", "string", "Aggregate status of the pod's containers."),
    Column("Restarts", "string", "Container restarts in the pod, and how long ago the latest one was."),
    _AGE,
    Column("IP", "string", "IP address allocated to the pod.", 1),
    Column("Node", "string", "Node the pod is bound to.", 1),
    Column("Nominated Node", "string", "Node the scheduler nominated for the pod after preemption.", 1),
    Column("Readiness Gates", "string", "Readiness gates whose condition is True, out of all gates.", 1),
)

_POD_COMPLETED = {
    "Succeeded": {"type": "Completed", "status": "True", "reason": "Succeeded",
                  "message": "The pod has completed successfully."},
    "Failed": {"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."},
}


def _pod_ip(status: Obj) -> str:
    ips = _list(status.get("podIPs"))
    ip = _dict(ips[0]).get("ip") if ips else status.get("podIP")
    return str(ip or "") or "<none>"


def _readiness_gates(spec: Obj, status: Obj) -> str:
    gates = _list(spec.get("readinessGates"))
    if not gates:
        return "<none>"
    conditions = [_dict(c) for c in _list(status.get("conditions"))]
    passing = 0
    for gate in gates:
        wanted = _dict(gate).get("conditionType")
        first = next((c for c in conditions if c.get("type") == wanted), None)
        passing += 1 if first is not None and first.get("status") == "True" else 0
    return f"{passing}/{len(gates)}"


def _pod_cells(pod: Obj, now: datetime) -> list[Cell]:
    metadata, spec, status = _dict(pod.get("metadata")), _dict(pod.get("spec")), _dict(pod.get("status"))
    summary = pod_summary(pod, now)
    return [
        metadata.get("name", ""),
        summary.ready,
        summary.status,
        summary.restarts,
        age(metadata.get("creationTimestamp"), now),
        _pod_ip(status),
        str(spec.get("nodeName") or "") or "<none>",
        str(status.get("nominatedNodeName") or "") or "<none>",
        _readiness_gates(spec, status),
    ]


def _pod_conditions(pod: Obj) -> list[dict[str, str]]:
    completed = _POD_COMPLETED.get(str(_dict(pod.get("status")).get("phase") or ""))
    return [dict(completed)] if completed else []


# --------------------------------------------------------------------------------------------------------------
# Workloads
# --------------------------------------------------------------------------------------------------------------


def _template_containers(obj: Obj) -> tuple[str, str]:
    containers = [_dict(c) for c in _list(_dict(_dict(_dict(obj.get("spec")).get("template")).get("spec"))
                                         .get("containers"))]
    return ",".join(str(c.get("name", "")) for c in containers), ",".join(str(c.get("image", "")) for c in containers)


def _replicas(spec: Obj) -> int:
    """`spec.replicas`, defaulted to 1 as the API server's defaulting would have done."""
    value = spec.get("replicas")
    return 1 if value is None else int(value)


def _deployment_cells(obj: Obj, now: datetime) -> list[Cell]:
    metadata, spec, status = _dict(obj.get("metadata")), _dict(obj.get("spec")), _dict(obj.get("status"))
    names, images = _template_containers(obj)
    selector = spec.get("selector")
    try:
        shown_selector = str(from_label_selector_object(selector if isinstance(selector, Mapping) else None))
    except StatusError:
        shown_selector = "<invalid>"
    return [
        metadata.get("name", ""),
        f"{int(status.get('readyReplicas') or 0)}/{_replicas(spec)}",
        int(status.get("updatedReplicas") or 0),
        int(status.get("availableReplicas") or 0),
        age(metadata.get("creationTimestamp"), now),
        names,
        images,
        shown_selector,
    ]


def _replicaset_cells(obj: Obj, now: datetime) -> list[Cell]:
    metadata, spec, status = _dict(obj.get("metadata")), _dict(obj.get("spec")), _dict(obj.get("status"))
    names, images = _template_containers(obj)
    selector = spec.get("selector")
    try:
        shown_selector = str(from_label_selector_object(selector if isinstance(selector, Mapping) else None))
    except StatusError:
        shown_selector = "<error>"
    return [
        metadata.get("name", ""),
        _replicas(spec),
        int(status.get("replicas") or 0),
        int(status.get("readyReplicas") or 0),
        age(metadata.get("creationTimestamp"), now),
        names,
        images,
        shown_selector or "<none>",
    ]


# --------------------------------------------------------------------------------------------------------------
# Services
# --------------------------------------------------------------------------------------------------------------


def _load_balancer_addresses(status: Obj) -> list[str]:
    ingress = [_dict(i) for i in _list(_dict(status.get("loadBalancer")).get("ingress"))]
    return sorted({str(i.get("ip") or i.get("hostname")) for i in ingress if i.get("ip") or i.get("hostname")})


def _service_external_ip(service_type: str, spec: Obj, status: Obj) -> str:
    external = [str(ip) for ip in _list(spec.get("externalIPs"))]
    match service_type:
        case "ClusterIP" | "NodePort":
            return ",".join(external) or "<none>"
        case "LoadBalancer":
            return ",".join(_load_balancer_addresses(status) + external) or "<pending>"
        case "ExternalName":
            return str(spec.get("externalName") or "")
    return "<unknown>"


def _service_ports(spec: Obj) -> str:
    pieces = []
    for raw in _list(spec.get("ports")):
        port = _dict(raw)
        protocol = port.get("protocol") or "TCP"
        node_port = int(port.get("nodePort") or 0)
        middle = f":{node_port}" if node_port > 0 else ""
        pieces.append(f"{int(port.get('port') or 0)}{middle}/{protocol}")
    return ",".join(pieces) or "<none>"


def _service_cells(obj: Obj, now: datetime) -> list[Cell]:
    metadata, spec, status = _dict(obj.get("metadata")), _dict(obj.get("spec")), _dict(obj.get("status"))
    service_type = str(spec.get("type") or "ClusterIP")
    cluster_ips = _list(spec.get("clusterIPs"))
    cluster_ip = str(cluster_ips[0] if cluster_ips else spec.get("clusterIP") or "") or "<none>"
    return [
        metadata.get("name", ""),
        service_type,
        cluster_ip,
        _service_external_ip(service_type, spec, status),
        _service_ports(spec),
        age(metadata.get("creationTimestamp"), now),
        format_labels(spec.get("selector")),
    ]


# --------------------------------------------------------------------------------------------------------------
# Events
# --------------------------------------------------------------------------------------------------------------


def _event_cells(obj: Obj, now: datetime) -> list[Cell]:
    metadata = _dict(obj.get("metadata"))
    involved = _dict(obj.get("involvedObject"))
    source = _dict(obj.get("source"))

    first_seen = age(obj.get("firstTimestamp"), now)
    if parse_time(obj.get("firstTimestamp")) is None:
        first_seen = age(obj.get("eventTime"), now)
    last_seen = first_seen if parse_time(obj.get("lastTimestamp")) is None else age(obj.get("lastTimestamp"), now)
    count = int(obj.get("count") or 0)
    series = obj.get("series")
    if isinstance(series, Mapping):
        last_seen = age(series.get("lastObservedTime"), now)
        count = int(series.get("count") or 0)
    elif count == 0:
        count = 1

    kind = str(involved.get("kind") or "").lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    component = str(source.get("component") or obj.get("reportingComponent") or "")
    instance = str(source.get("host") or obj.get("reportingInstance") or "")
    return [
        last_seen,
        str(obj.get("type") or ""),
        str(obj.get("reason") or ""),
        target,
        str(involved.get("fieldPath") or ""),
        f"{component}, {instance}" if instance else component,
        str(obj.get("message") or "").strip(),
        first_seen,
        count,
        metadata.get("name", ""),
    ]


# --------------------------------------------------------------------------------------------------------------
# Nodes and the simple kinds
# --------------------------------------------------------------------------------------------------------------

_ROLE_PREFIX = "node-role.kubernetes.io/"


def _node_cells(obj: Obj, now: datetime) -> list[Cell]:
    metadata, spec, status = _dict(obj.get("metadata")), _dict(obj.get("spec")), _dict(obj.get("status"))
    ready = [_dict(c) for c in _list(status.get("conditions")) if _dict(c).get("type") == "Ready"]
    states = ["Ready" if ready[-1].get("status") == "True" else "NotReady"] if ready else ["Unknown"]
    if spec.get("unschedulable"):
        states.append("SchedulingDisabled")
    roles: set[str] = set()
    for key, value in _dict(metadata.get("labels")).items():
        if key.startswith(_ROLE_PREFIX) and key[len(_ROLE_PREFIX):]:
            roles.add(key[len(_ROLE_PREFIX):])
        elif key == "kubernetes.io/role" and value:
            roles.add(str(value))
    info = _dict(status.get("nodeInfo"))
    addresses = [_dict(a) for a in _list(status.get("addresses"))]

    def address(kind: str) -> str:
        return next((str(a.get("address")) for a in addresses if a.get("type") == kind), "<none>")

    return [
        metadata.get("name", ""),
        ",".join(states),
        ",".join(sorted(roles)) or "<none>",
        age(metadata.get("creationTimestamp"), now),
        str(info.get("kubeletVersion") or ""),
        address("InternalIP"),
        address("ExternalIP"),
        str(info.get("osImage") or "") or "<unknown>",
        str(info.get("kernelVersion") or "") or "<unknown>",
        str(info.get("containerRuntimeVersion") or "") or "<unknown>",
    ]


def _namespace_cells(obj: Obj, now: datetime) -> list[Cell]:
    metadata = _dict(obj.get("metadata"))
    phase = str(_dict(obj.get("status")).get("phase") or "")
    return [metadata.get("name", ""), phase, age(metadata.get("creationTimestamp"), now)]


def _configmap_cells(obj: Obj, now: datetime) -> list[Cell]:
    metadata = _dict(obj.get("metadata"))
    entries = len(_dict(obj.get("data"))) + len(_dict(obj.get("binaryData")))
    return [metadata.get("name", ""), entries, age(metadata.get("creationTimestamp"), now)]


def _secret_cells(obj: Obj, now: datetime) -> list[Cell]:
    metadata = _dict(obj.get("metadata"))
    secret_type = str(obj.get("type") or "")
    return [metadata.get("name", ""), secret_type, len(_dict(obj.get("data"))),
            age(metadata.get("creationTimestamp"), now)]


def _service_account_cells(obj: Obj, now: datetime) -> list[Cell]:
    metadata = _dict(obj.get("metadata"))
    return [metadata.get("name", ""), len(_list(obj.get("secrets"))), age(metadata.get("creationTimestamp"), now)]


def _lease_cells(obj: Obj, now: datetime) -> list[Cell]:
    metadata = _dict(obj.get("metadata"))
    holder = str(_dict(obj.get("spec")).get("holderIdentity") or "")
    return [metadata.get("name", ""), holder, age(metadata.get("creationTimestamp"), now)]


def _default_cells(obj: Obj, now: datetime) -> list[Cell]:
    """NAME and a `date` AGE, as for custom resources: no timestamp gives a null cell, a bad one `<invalid>`."""
    metadata = _dict(obj.get("metadata"))
    created = metadata.get("creationTimestamp")
    if not isinstance(created, str) or not created:
        return [metadata.get("name", ""), None]
    return [metadata.get("name", ""), age(created, now) if parse_time(created) else "<invalid>"]


# --------------------------------------------------------------------------------------------------------------
# RBAC
# --------------------------------------------------------------------------------------------------------------

_GO_ZERO_TIME = "0001-01-01T00:00:00Z"


def created_at(value: object) -> str:
    """CREATED AT of kube-apiserver's default table convertor, which Roles and ClusterRoles use: the creation
    time in UTC as Go's `time.RFC3339` prints it (whole seconds); Go's zero time when there is none."""
    moment = parse_time(value)
    if moment is None:
        return _GO_ZERO_TIME
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _role_cells(obj: Obj, now: datetime) -> list[Cell]:
    metadata = _dict(obj.get("metadata"))
    return [metadata.get("name", ""), created_at(metadata.get("creationTimestamp"))]


def _binding_cells(obj: Obj, now: datetime) -> list[Cell]:
    """ROLE is `Kind/name`; the wide columns list the subjects by kind (`rbac.SubjectsStrings`), service accounts
    as `namespace/name`; subjects of other kinds are not shown."""
    metadata, ref = _dict(obj.get("metadata")), _dict(obj.get("roleRef"))
    users: list[str] = []
    groups: list[str] = []
    service_accounts: list[str] = []
    for raw in _list(obj.get("subjects")):
        subject = _dict(raw)
        name = str(subject.get("name") or "")
        match subject.get("kind"):
            case "User":
                users.append(name)
            case "Group":
                groups.append(name)
            case "ServiceAccount":
                service_accounts.append(f"{subject.get('namespace') or ''}/{name}")
    return [
        metadata.get("name", ""),
        f"{ref.get('kind') or ''}/{ref.get('name') or ''}",
        age(metadata.get("creationTimestamp"), now),
        ", ".join(users),
        ", ".join(groups),
        ", ".join(service_accounts),
    ]


_CREATED_AT = Column("Created At", "date", "Time the object was created, in UTC.")


def _subjects_column(what: str) -> Column:
    return Column(what, "string", f"{what} the binding grants its role to.", 1)


_BINDING_COLUMNS = (
    _name_column(),
    Column("Role", "string", "Role the binding grants, as Kind/name."),
    _AGE,
    _subjects_column("Users"),
    _subjects_column("Groups"),
    _subjects_column("ServiceAccounts"),
)


# --------------------------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Printer:
    columns: tuple[Column, ...]
    cells: Callable[[Obj, datetime], list[Cell]]
    conditions: Callable[[Obj], list[dict[str, str]]] = lambda _obj: []


PRINTERS: dict[tuple[str, str], Printer] = {
    ("", "Pod"): Printer(_POD_COLUMNS, _pod_cells, _pod_conditions),
    ("apps", "Deployment"): Printer(
        (
            _name_column(),
            Column("Ready", "string", "Ready pods out of desired pods."),
            Column("Up-to-date", "string", "Pods running the latest pod template."),
            Column("Available", "string", "Pods available to serve for at least minReadySeconds."),
            _AGE,
            _CONTAINERS,
            _IMAGES,
            _selector_column("pods the deployment manages"),
        ),
        _deployment_cells,
    ),
    ("apps", "ReplicaSet"): Printer(
        (
            _name_column(),
            Column("Desired", "integer", "Number of pods the replica set should run."),
            Column("Current", "integer", "Number of pods the replica set runs."),
            Column("Ready", "integer", "Number of the replica set's pods that are ready."),
            _AGE,
            _CONTAINERS,
            _IMAGES,
            _selector_column("pods the replica set manages"),
        ),
        _replicaset_cells,
    ),
    ("", "Service"): Printer(
        (
            _name_column(),
            Column("Type", "string", "How the service is exposed."),
            Column("Cluster-IP", "string", "Virtual IP of the service inside the cluster."),
            Column("External-IP", "string", "Addresses the service is reachable on from outside the cluster."),
            Column("Port(s)", "string", "Ports the service exposes."),
            _AGE,
            _selector_column("pods that back the service"),
        ),
        _service_cells,
    ),
    ("", "ConfigMap"): Printer(
        (_name_column(), Column("Data", "string", "Number of data and binaryData entries."), _AGE),
        _configmap_cells,
    ),
    ("", "Secret"): Printer(
        (
            _name_column(),
            Column("Type", "string", "Type of the secret's content."),
            Column("Data", "string", "Number of data entries."),
            _AGE,
        ),
        _secret_cells,
    ),
    ("", "Namespace"): Printer(
        (_name_column(), Column("Status", "string", "Lifecycle phase of the namespace."), _AGE),
        _namespace_cells,
    ),
    ("", "ServiceAccount"): Printer(
        (_name_column(), Column("Secrets", "string", "Number of secrets listed by the service account."), _AGE),
        _service_account_cells,
    ),
    ("", "Event"): Printer(
        (
            Column("Last Seen", "string", "Time since the event was last observed."),
            Column("Type", "string", "Type of the event (Normal or Warning)."),
            Column("Reason", "string", "Short machine-readable reason for the event."),
            Column("Object", "string", "Object the event is about."),
            Column("Subobject", "string", "Part of the object the event is about.", 1),
            Column("Source", "string", "Component (and host) that reported the event.", 1),
            Column("Message", "string", "Human-readable description of the event."),
            Column("First Seen", "string", "Time since the event was first observed.", 1),
            Column("Count", "string", "Number of times the event occurred.", 1),
            _name_column(priority=1),
        ),
        _event_cells,
    ),
    ("coordination.k8s.io", "Lease"): Printer(
        (_name_column(), Column("Holder", "string", "The holder of the lease."), _AGE),
        _lease_cells,
    ),
    ("", "Node"): Printer(
        (
            _name_column(),
            Column("Status", "string", "Readiness and schedulability of the node."),
            Column("Roles", "string", "Roles of the node, from its node-role labels."),
            _AGE,
            Column("Version", "string", "Kubelet version of the node."),
            Column("Internal-IP", "string", "First internal address of the node.", 1),
            Column("External-IP", "string", "First external address of the node.", 1),
            Column("OS-Image", "string", "Operating system image of the node.", 1),
            Column("Kernel-Version", "string", "Kernel version of the node.", 1),
            Column("Container-Runtime", "string", "Container runtime and version of the node.", 1),
        ),
        _node_cells,
    ),
    ("rbac.authorization.k8s.io", "Role"): Printer((_name_column(), _CREATED_AT), _role_cells),
    ("rbac.authorization.k8s.io", "ClusterRole"): Printer((_name_column(), _CREATED_AT), _role_cells),
    ("rbac.authorization.k8s.io", "RoleBinding"): Printer(_BINDING_COLUMNS, _binding_cells),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): Printer(_BINDING_COLUMNS, _binding_cells),
}

DEFAULT_PRINTER = Printer(
    (_name_column(), Column("Age", "date", "Time since the object was created.")),
    _default_cells,
)

_INCLUDE_OBJECT = ("Metadata", "Object", "None", "")


# The control plane's Deployments carry the diagnosis: `-o wide` shows why their pods fail (a simulated cluster
# prints what K3s prints, without it).
_DIAGNOSED_DEPLOYMENT = Printer(
    (*PRINTERS[("apps", "Deployment")].columns,
     Column("Healthy", "string", "Why the pods fail, as the diagnosis concludes (the Healthy condition's reason); "
            "Yes once they recovered.", 1)),
    lambda obj, now: [*_deployment_cells(obj, now), _health(obj)],
)


def _health(deployment: Obj) -> str:
    condition = next((c for c in _list(_dict(deployment.get("status")).get("conditions"))
                      if _dict(c).get("type") == "Healthy"), None)
    if condition is None:
        return "<none>"
    return "Yes" if condition.get("status") == "True" else str(condition.get("reason") or "No")


def printer_for(rt: ResourceType, *, diagnosis: bool = False) -> Printer:
    """How `rt` prints; `diagnosis`: as the control plane serves it, with the diagnosis's columns."""
    if diagnosis and (rt.group, rt.kind) == ("apps", "Deployment"):
        return _DIAGNOSED_DEPLOYMENT
    known = PRINTERS.get((rt.group, rt.kind))
    if known is not None:
        return known
    own = own_type(rt.group, rt.kind)
    if own is not None and own.columns:
        return _own_type_printer(own)
    return DEFAULT_PRINTER


def _own_type_printer(own: OwnType) -> Printer:
    """Canopy's own types: Name, the type's declared columns, Age (as CRDs' additionalPrinterColumns print)."""
    columns = tuple(Column(c.name, c.type, c.description, c.priority) for c in own.columns)

    def cells(obj: Obj, now: datetime) -> list[Cell]:
        meta = _dict(obj.get("metadata"))
        values = [_cell(own.field_value(dict(obj), column.path)) for column in own.columns]
        return [meta.get("name", ""), *values, age(meta.get("creationTimestamp"), now)]

    return Printer((_name_column(), *columns, _AGE), cells)


def _cell(value: Any) -> Cell:
    """A declared column's value: strings and integers as they are, booleans as Go prints them, absent as null."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return value
    return json.dumps(value, separators=(",", ":"))


def _row_object(rt: ResourceType, obj: Obj, include_object: str) -> dict[str, Any] | None:
    """The object a row carries. Tables are serialised at once and never changed, so the row shares the object's
    parts (a deep copy per row was a third of listing 2,000 pods)."""
    if include_object == "None":
        return None
    if include_object == "Object":
        full = dict(obj)
        full.setdefault("kind", rt.kind)
        full.setdefault("apiVersion", rt.api_version)
        return full
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": _dict(obj.get("metadata")),
    }


def table(
    rt: ResourceType,
    objects: list[dict[str, Any]],
    *,
    now: datetime,
    include_object: str = "Metadata",
    list_meta: dict[str, Any] | None = None,
    diagnosis: bool = False,
) -> dict[str, Any]:
    """Render `objects` of type `rt` as a `meta.k8s.io/v1 Table`.

    `include_object` is the `includeObject` query parameter: `Metadata` (the default, also for an empty value)
    attaches a PartialObjectMetadata to each row, `Object` the full object, `None` nothing. `list_meta` is the
    list's metadata (resourceVersion, continue, remainingItemCount) for a list; without it, a single object's
    resourceVersion is used, as for a GET of one object.
    """
    if include_object not in _INCLUDE_OBJECT:
        raise bad_request(f"unrecognized includeObject value: {go_quote(include_object)}")
    printer = printer_for(rt, diagnosis=diagnosis)
    rows = []
    for obj in objects:
        row: dict[str, Any] = {"cells": printer.cells(obj, now)}
        conditions = printer.conditions(obj)
        if conditions:
            row["conditions"] = conditions
        attached = _row_object(rt, obj, include_object)
        if attached is not None:
            row["object"] = attached
        rows.append(row)

    metadata: dict[str, Any] = {}
    if list_meta is not None:
        for key in ("resourceVersion", "continue", "remainingItemCount"):
            if list_meta.get(key) not in (None, ""):
                metadata[key] = list_meta[key]
    elif len(objects) == 1:
        version = _dict(objects[0].get("metadata")).get("resourceVersion")
        if version:
            metadata["resourceVersion"] = version
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": [column.to_dict() for column in printer.columns],
        "rows": rows,
    }
