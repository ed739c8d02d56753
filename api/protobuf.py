"""Kubernetes protobuf request bodies, turned into the JSON dicts the rest of Canopy works with.

kubectl's typed clients send built-in objects as `application/vnd.kubernetes.protobuf` (`kubectl create
deployment|configmap|secret|service|job|role|...`, `auth can-i`, `auth whoami`, `create token`, `autoscale`), and
so does any client-go program left at its defaults. Canopy validates, patches and stores JSON, so a protobuf body
is turned into exactly the dict Go's encoding/json prints for the same typed object, and from there it takes the
ordinary JSON path. Responses stay JSON: every such client also accepts it.

The body is the 4 bytes `k8s\\x00` followed by a `runtime.Unknown` message: {1: TypeMeta {1: apiVersion,
2: kind}, 2: raw, 3: contentEncoding, 4: contentType}, where `raw` is the object's own message.

Why a small hand-written reader instead of google.protobuf: the JSON shape hangs on facts that proto descriptors
do not carry. Go writes every non-pointer scalar on the wire, zero or not, and encoding/json then drops the zero
ones that are `omitempty`; pointers and fields without omitempty keep their zeros (`replicas: 0`). Embedded structs
are flattened (`json:",inline"`), and Time, MicroTime, IntOrString, Quantity, RawExtension and ExtraValue have
JSON forms of their own. A table of those facts is needed whatever parses the bytes, and with it the wire format
(varints and length-delimited fields, nothing else occurs in these types) takes a few dozen lines; building
descriptors as well would keep a second copy of the same schema that could drift from the first.

`_TABLE` was written from the Go struct tags of kubernetes/api and kubernetes/apimachinery: `protobuf:"...,N,..."`
gives the field number, `json:"name,omitempty"` and the Go type give the name and the zero-value rule. One line per
message, continued on indented lines:

    Message: jsonName=N[:type][!] ...

where type is `str` (the default), `int` (any varint integer), `bool`, `bytes` (base64 in JSON), a message of the
table, one of the special types, `[T]` for a list or `{T}` for a map with string keys; `!` keeps the field in JSON
even when it is zero (a Go pointer, or a field without omitempty); and the name `...` inlines the message's fields
into its parent. Field numbers the table lacks are skipped, so a newer client sending newer fields still decodes.
Pure: no I/O.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from controlplane import errors

MEDIA_TYPE = "application/vnd.kubernetes.protobuf"
MAGIC = b"k8s\x00"

_VARINT, _FIXED64, _BYTES, _FIXED32 = 0, 1, 2, 5
_SCALARS = frozenset({"str", "int", "bool", "bytes"})
_ZEROS: dict[str, Any] = {"str": "", "int": 0, "bool": False, "bytes": ""}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_SEND_JSON = f"send the object as JSON (Content-Type: application/json) instead of {MEDIA_TYPE}"

# Top-level kinds accepted as protobuf, by apiVersion; each is also the name of its message in _TABLE.
# DeleteOptions is accepted under any apiVersion: client-go registers it in every group version.
_KINDS: dict[str, frozenset[str]] = {
    "v1": frozenset(
        {
            "Binding",
            "ConfigMap",
            "Endpoints",
            "Event",
            "LimitRange",
            "Namespace",
            "Node",
            "PersistentVolumeClaim",
            "Pod",
            "PodTemplate",
            "ReplicationController",
            "ResourceQuota",
            "Secret",
            "Service",
            "ServiceAccount",
        }
    ),
    "apps/v1": frozenset({"ControllerRevision", "DaemonSet", "Deployment", "ReplicaSet", "StatefulSet"}),
    "batch/v1": frozenset({"CronJob", "Job"}),
    "rbac.authorization.k8s.io/v1": frozenset({"ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"}),
    "authorization.k8s.io/v1": frozenset(
        {"LocalSubjectAccessReview", "SelfSubjectAccessReview", "SelfSubjectRulesReview", "SubjectAccessReview"}
    ),
    "authentication.k8s.io/v1": frozenset({"SelfSubjectReview", "TokenRequest", "TokenReview"}),
    "policy/v1": frozenset({"Eviction", "PodDisruptionBudget"}),
    "autoscaling/v1": frozenset({"HorizontalPodAutoscaler", "Scale"}),
    "networking.k8s.io/v1": frozenset({"Ingress", "IngressClass"}),
    "scheduling.k8s.io/v1": frozenset({"PriorityClass"}),
}


@dataclass(frozen=True)
class _Field:
    name: str  # JSON name; "..." inlines the message's fields into the parent
    number: int
    type: str  # a scalar, a special type or a message of the table; for lists and maps, the element type
    container: str  # "", "list" or "map"
    keep_zero: bool

    @property
    def inline(self) -> bool:
        return self.name == "..."


class _Malformed(Exception):
    """The bytes are not a valid encoding of the expected message."""


def supported(api_version: str, kind: str) -> bool:
    """Whether a body of this kind can be sent as protobuf; the others must come as JSON."""
    return kind == "DeleteOptions" or kind in _KINDS.get(api_version, frozenset())


def decode(raw: bytes) -> dict[str, Any]:
    """The JSON object a Kubernetes protobuf body stands for, `apiVersion` and `kind` included.

    400 for bytes that are not a well-formed envelope or message, 415 for a kind this table does not describe.
    """
    if not raw.startswith(MAGIC):
        raise errors.bad_request(
            f"the request body does not start with the Kubernetes protobuf prefix 'k8s\\x00'; {_SEND_JSON}"
        )
    try:
        api_version, kind, body = _envelope(raw[len(MAGIC) :])
    except _Malformed as exc:
        raise errors.bad_request(
            f"the protobuf envelope of the request body is malformed: {exc}; {_SEND_JSON}"
        ) from None
    if not kind:
        raise errors.bad_request(f"the protobuf envelope of the request body names no kind; {_SEND_JSON}")
    if not supported(api_version, kind):
        raise errors.unsupported_media_type(
            f"{kind} ({api_version or 'no apiVersion'}) cannot be sent to this server as {MEDIA_TYPE}: "
            "send it as application/json instead"
        )
    try:
        obj = _object(kind, body)
    except _Malformed as exc:
        raise errors.bad_request(f"the {kind} in the request body is malformed protobuf: {exc}; {_SEND_JSON}") from None
    except RecursionError:
        raise errors.bad_request(f"the {kind} in the request body nests objects too deeply; {_SEND_JSON}") from None
    return {"kind": kind, "apiVersion": api_version, **obj}


def _envelope(buf: bytes) -> tuple[str, str, bytes]:
    api_version = kind = encoding = content_type = ""
    body = b""
    for number, wire, value in _wire(buf):
        if number == 1:
            for meta_number, meta_wire, meta_value in _wire(_expect_bytes(wire, value, "Unknown.typeMeta")):
                if meta_number == 1:
                    api_version = _text(_expect_bytes(meta_wire, meta_value, "TypeMeta.apiVersion"))
                elif meta_number == 2:
                    kind = _text(_expect_bytes(meta_wire, meta_value, "TypeMeta.kind"))
        elif number == 2:
            body = _expect_bytes(wire, value, "Unknown.raw")
        elif number == 3:
            encoding = _text(_expect_bytes(wire, value, "Unknown.contentEncoding"))
        elif number == 4:
            content_type = _text(_expect_bytes(wire, value, "Unknown.contentType"))
    if encoding:
        raise _Malformed(f"content encoding {encoding!r} is not supported")
    if content_type not in ("", MEDIA_TYPE):
        raise _Malformed(f"content type {content_type!r} inside the envelope is not supported")
    return api_version, kind, body


# --- the wire format ---------------------------------------------------------------------------------------------


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while shift < 70:
        if pos >= len(buf):
            raise _Malformed("a varint runs past the end of the data")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
    raise _Malformed("a varint is longer than 10 bytes")


def _wire(buf: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """(field number, wire type, value) for each field of an encoded message, in order."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise _Malformed("field number 0 is not valid")
        value: int | bytes
        if wire == _VARINT:
            value, pos = _varint(buf, pos)
        elif wire == _BYTES:
            length, pos = _varint(buf, pos)
            if pos + length > len(buf):
                raise _Malformed(f"field {number} is {length} bytes long but only {len(buf) - pos} remain")
            value, pos = buf[pos : pos + length], pos + length
        elif wire in (_FIXED64, _FIXED32):
            size = 8 if wire == _FIXED64 else 4
            if pos + size > len(buf):
                raise _Malformed(f"field {number} runs past the end of the data")
            value, pos = int.from_bytes(buf[pos : pos + size], "little"), pos + size
        else:
            raise _Malformed(f"field {number} uses wire type {wire}, which Kubernetes objects never use")
        yield number, wire, value


def _expect_bytes(wire: int, value: int | bytes, where: str) -> bytes:
    if wire != _BYTES or not isinstance(value, bytes):
        raise _Malformed(f"{where} should be length-delimited but has wire type {wire}")
    return value


def _expect_varint(wire: int, value: int | bytes, where: str) -> int:
    if wire != _VARINT or not isinstance(value, int):
        raise _Malformed(f"{where} should be a varint but has wire type {wire}")
    return value


def _signed(value: int) -> int:
    """Go's int32 and int64 travel as two's complement in 64 bits: negative numbers are ten-byte varints."""
    return value - (1 << 64) if value >= 1 << 63 else value


def _text(value: bytes) -> str:
    return value.decode("utf-8", errors="replace")  # as encoding/json replaces invalid UTF-8


# --- messages ----------------------------------------------------------------------------------------------------


def _object(type_name: str, buf: bytes) -> dict[str, Any]:
    fields = _SCHEMA[type_name]
    found: dict[int, Any] = {}
    for number, wire, value in _wire(buf):
        field = fields.get(number)
        if field is None:
            continue
        where = f"{type_name}.{field.name}"
        if field.container == "map":
            key, item = _entry(field.type, _expect_bytes(wire, value, where), where)
            found.setdefault(number, {})[key] = item
        elif field.container == "list":
            found.setdefault(number, []).extend(_items(field.type, wire, value, where))
        else:
            found[number] = _value(field.type, wire, value, where)
    out: dict[str, Any] = {}
    for field in fields.values():
        value = found.get(field.number)
        if field.inline and value is not None:
            out.update(value)
        elif not _omitted(field, value):
            out[field.name] = value
    return out


def _omitted(field: _Field, value: Any) -> bool:
    if value is None:
        return True
    if field.container:
        return not value
    return field.type in _SCALARS and not field.keep_zero and value == _ZEROS[field.type]


def _value(type_name: str, wire: int, value: int | bytes, where: str) -> Any:
    if type_name == "int":
        return _signed(_expect_varint(wire, value, where))
    if type_name == "bool":
        return _expect_varint(wire, value, where) != 0
    data = _expect_bytes(wire, value, where)
    if type_name == "str":
        return _text(data)
    if type_name == "bytes":
        return base64.b64encode(data).decode("ascii")
    special = _SPECIAL.get(type_name)
    return special(data, where) if special else _object(type_name, data)


def _items(type_name: str, wire: int, value: int | bytes, where: str) -> list[Any]:
    if type_name in ("int", "bool") and wire == _BYTES and isinstance(value, bytes):  # a packed list of varints
        items: list[Any] = []
        pos = 0
        while pos < len(value):
            item, pos = _varint(value, pos)
            items.append(_value(type_name, _VARINT, item, where))
        return items
    return [_value(type_name, wire, value, where)]


def _entry(type_name: str, buf: bytes, where: str) -> tuple[str, Any]:
    """A map entry is a message {1: key, 2: value}; either may be left out when it is the zero value."""
    key = ""
    item: Any = _ZEROS.get(type_name)
    has_item = False
    for number, wire, value in _wire(buf):
        if number == 1:
            key = _text(_expect_bytes(wire, value, f"{where} key"))
        elif number == 2:
            item, has_item = _value(type_name, wire, value, f"{where}[{key}]"), True
    if not has_item and type_name not in _SCALARS:
        item = _value(type_name, _BYTES, b"", where)
    return key, item


# --- types with a JSON form of their own ---------------------------------------------------------------------------


def _last(buf: bytes) -> dict[int, tuple[int, int | bytes]]:
    """The wire type and last value of each field, for the small fixed messages below."""
    return {number: (wire, value) for number, wire, value in _wire(buf)}


def _timestamp(buf: bytes, where: str) -> tuple[datetime, int] | None:
    """metav1.Time and MicroTime: {1: seconds, 2: nanos}; an empty message is Go's zero time, JSON null."""
    if not buf:
        return None
    fields = _last(buf)
    seconds = _signed(_expect_varint(*fields.get(1, (_VARINT, 0)), f"{where}.seconds"))
    nanos = _signed(_expect_varint(*fields.get(2, (_VARINT, 0)), f"{where}.nanos"))
    try:
        return _EPOCH + timedelta(seconds=seconds), nanos
    except OverflowError:
        raise _Malformed(f"{where} is out of the range of dates JSON can carry") from None


def _rfc3339(moment: datetime) -> str:
    return f"{moment.year:04d}-" + moment.strftime("%m-%dT%H:%M:%S")  # %Y does not pad years before 1000


def _time(buf: bytes, where: str) -> str | None:
    stamp = _timestamp(buf, where)
    return None if stamp is None else _rfc3339(stamp[0]) + "Z"


def _micro_time(buf: bytes, where: str) -> str | None:
    stamp = _timestamp(buf, where)
    return None if stamp is None else f"{_rfc3339(stamp[0])}.{max(stamp[1], 0) // 1000 % 1_000_000:06d}Z"


def _quantity(buf: bytes, where: str) -> str:
    """resource.Quantity: {1: string}. Kept as sent; the zero Quantity prints as "0"."""
    return _text(_expect_bytes(*_last(buf).get(1, (_BYTES, b"0")), where))


def _int_or_string(buf: bytes, where: str) -> int | str:
    """intstr.IntOrString: {1: type, 2: intVal, 3: strVal}; type 0 is an int, 1 a string."""
    fields = _last(buf)
    kind = _expect_varint(*fields.get(1, (_VARINT, 0)), f"{where}.type")
    if kind == 0:
        return _signed(_expect_varint(*fields.get(2, (_VARINT, 0)), f"{where}.intVal"))
    if kind == 1:
        return _text(_expect_bytes(*fields.get(3, (_BYTES, b"")), f"{where}.strVal"))
    raise _Malformed(f"{where} has IntOrString type {kind!r}, which is neither int (0) nor string (1)")


def _raw(buf: bytes, where: str) -> Any:
    """runtime.RawExtension and FieldsV1: {1: raw}, holding JSON (or, for an embedded object, protobuf)."""
    data = _expect_bytes(*_last(buf).get(1, (_BYTES, b"")), where)
    if not data:
        return None
    if data.startswith(MAGIC):
        return decode(data)
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _Malformed(f"{where} should hold JSON: {exc}") from None


def _extra_value(buf: bytes, where: str) -> list[str]:
    """authentication's and authorization's ExtraValue: {1: repeated string}, a plain list in JSON."""
    return [_text(_expect_bytes(wire, value, where)) for number, wire, value in _wire(buf) if number == 1]


_SPECIAL: dict[str, Callable[[bytes, str], Any]] = {
    "Time": _time,
    "MicroTime": _micro_time,
    "Quantity": _quantity,
    "IntOrString": _int_or_string,
    "Raw": _raw,
    "ExtraValue": _extra_value,
}


# --- the table -----------------------------------------------------------------------------------------------------

_FIELD = re.compile(r"(?P<name>\.\.\.|\w+)=(?P<number>\d+)(?::(?P<type>[^!]+))?(?P<keep>!?)")


def _parse(table: str) -> dict[str, dict[int, _Field]]:
    """Message name -> its fields by number, in declaration order (which is Go's JSON order)."""
    lines: list[tuple[str, list[str]]] = []
    for line in table.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if line[0].isspace():
            lines[-1][1].extend(line.split())
        else:
            name, _, rest = line.partition(":")
            lines.append((name, rest.split()))
    schema: dict[str, dict[int, _Field]] = {}
    for name, tokens in lines:
        if name in schema:
            raise ValueError(f"message {name} is described twice")
        fields: dict[int, _Field] = {}
        for token in tokens:
            match = _FIELD.fullmatch(token)
            if match is None:
                raise ValueError(f"{name}: cannot read {token!r}")
            type_name, container = match["type"] or "str", ""
            if type_name[0] in "[{":
                container, type_name = ("list" if type_name[0] == "[" else "map"), type_name[1:-1]
            field = _Field(match["name"], int(match["number"]), type_name, container, bool(match["keep"]))
            if field.number in fields:
                raise ValueError(f"{name}: field number {field.number} is used twice")
            fields[field.number] = field
        schema[name] = fields
    for name, fields in schema.items():
        for field in fields.values():
            if field.type not in _SCALARS and field.type not in _SPECIAL and field.type not in schema:
                raise ValueError(f"{name}.{field.name} refers to {field.type}, which the table does not describe")
    return schema


_TABLE = """
# core/v1: volumes and claims
Volume: name=1! ...=2:VolumeSource
VolumeSource: hostPath=1:HostPathVolumeSource emptyDir=2:EmptyDirVolumeSource
    gcePersistentDisk=3:GCEPersistentDiskVolumeSource awsElasticBlockStore=4:AWSElasticBlockStoreVolumeSource
    gitRepo=5:GitRepoVolumeSource secret=6:SecretVolumeSource nfs=7:NFSVolumeSource iscsi=8:ISCSIVolumeSource
    glusterfs=9:GlusterfsVolumeSource persistentVolumeClaim=10:PersistentVolumeClaimVolumeSource
    rbd=11:RBDVolumeSource flexVolume=12:FlexVolumeSource cinder=13:CinderVolumeSource cephfs=14:CephFSVolumeSource
    flocker=15:FlockerVolumeSource downwardAPI=16:DownwardAPIVolumeSource fc=17:FCVolumeSource
    azureFile=18:AzureFileVolumeSource configMap=19:ConfigMapVolumeSource
    vsphereVolume=20:VsphereVirtualDiskVolumeSource quobyte=21:QuobyteVolumeSource
    azureDisk=22:AzureDiskVolumeSource photonPersistentDisk=23:PhotonPersistentDiskVolumeSource
    projected=26:ProjectedVolumeSource portworxVolume=24:PortworxVolumeSource scaleIO=25:ScaleIOVolumeSource
    storageos=27:StorageOSVolumeSource csi=28:CSIVolumeSource ephemeral=29:EphemeralVolumeSource
    image=30:ImageVolumeSource
PersistentVolumeClaimVolumeSource: claimName=1! readOnly=2:bool
PersistentVolumeClaim: metadata=1:ObjectMeta spec=2:PersistentVolumeClaimSpec status=3:PersistentVolumeClaimStatus
PersistentVolumeClaimSpec: accessModes=1:[str] selector=4:LabelSelector resources=2:VolumeResourceRequirements
    volumeName=3 storageClassName=5! volumeMode=6! dataSource=7:TypedLocalObjectReference
    dataSourceRef=8:TypedObjectReference volumeAttributesClassName=9!
TypedObjectReference: apiGroup=1! kind=2! name=3! namespace=4!
ModifyVolumeStatus: targetVolumeAttributesClassName=1 status=2!
PersistentVolumeClaimCondition: type=1! status=2! lastProbeTime=3:Time lastTransitionTime=4:Time reason=5 message=6
PersistentVolumeClaimStatus: phase=1 accessModes=2:[str] capacity=3:{Quantity}
    conditions=4:[PersistentVolumeClaimCondition] allocatedResources=5:{Quantity} allocatedResourceStatuses=7:{str}
    currentVolumeAttributesClassName=8! modifyVolumeStatus=9:ModifyVolumeStatus
HostPathVolumeSource: path=1! type=2!
EmptyDirVolumeSource: medium=1 sizeLimit=2:Quantity
GlusterfsVolumeSource: endpoints=1! path=2! readOnly=3:bool
RBDVolumeSource: monitors=1:[str] image=2! fsType=3 pool=4 user=5 keyring=6 secretRef=7:LocalObjectReference
    readOnly=8:bool
CinderVolumeSource: volumeID=1! fsType=2 readOnly=3:bool secretRef=4:LocalObjectReference
CephFSVolumeSource: monitors=1:[str] path=2 user=3 secretFile=4 secretRef=5:LocalObjectReference readOnly=6:bool
SecretReference: name=1 namespace=2
FlockerVolumeSource: datasetName=1 datasetUUID=2
GCEPersistentDiskVolumeSource: pdName=1! fsType=2 partition=3:int readOnly=4:bool
QuobyteVolumeSource: registry=1! volume=2! readOnly=3:bool user=4 group=5 tenant=6
FlexVolumeSource: driver=1! fsType=2 secretRef=3:LocalObjectReference readOnly=4:bool options=5:{str}
AWSElasticBlockStoreVolumeSource: volumeID=1! fsType=2 partition=3:int readOnly=4:bool
GitRepoVolumeSource: repository=1! revision=2 directory=3
SecretVolumeSource: secretName=1 items=2:[KeyToPath] defaultMode=3:int! optional=4:bool!
SecretProjection: ...=1:LocalObjectReference items=2:[KeyToPath] optional=4:bool!
NFSVolumeSource: server=1! path=2! readOnly=3:bool
ISCSIVolumeSource: targetPortal=1! iqn=2! lun=3:int! iscsiInterface=4 fsType=5 readOnly=6:bool portals=7:[str]
    chapAuthDiscovery=8:bool chapAuthSession=11:bool secretRef=10:LocalObjectReference initiatorName=12!
FCVolumeSource: targetWWNs=1:[str] lun=2:int! fsType=3 readOnly=4:bool wwids=5:[str]
AzureFileVolumeSource: secretName=1! shareName=2! readOnly=3:bool
VsphereVirtualDiskVolumeSource: volumePath=1! fsType=2 storagePolicyName=3 storagePolicyID=4
PhotonPersistentDiskVolumeSource: pdID=1! fsType=2
AzureDiskVolumeSource: diskName=1! diskURI=2! cachingMode=3! fsType=4! readOnly=5:bool! kind=6!
PortworxVolumeSource: volumeID=1! fsType=2 readOnly=3:bool
ScaleIOVolumeSource: gateway=1! system=2! secretRef=3:LocalObjectReference sslEnabled=4:bool protectionDomain=5
    storagePool=6 storageMode=7 volumeName=8 fsType=9 readOnly=10:bool
StorageOSVolumeSource: volumeName=1 volumeNamespace=2 fsType=3 readOnly=4:bool secretRef=5:LocalObjectReference
ConfigMapVolumeSource: ...=1:LocalObjectReference items=2:[KeyToPath] defaultMode=3:int! optional=4:bool!
ConfigMapProjection: ...=1:LocalObjectReference items=2:[KeyToPath] optional=4:bool!
ServiceAccountTokenProjection: audience=1 expirationSeconds=2:int! path=3!
ClusterTrustBundleProjection: name=1! signerName=2! labelSelector=3:LabelSelector optional=5:bool! path=4!
PodCertificateProjection: signerName=1 keyType=2 maxExpirationSeconds=3:int! credentialBundlePath=4 keyPath=5
    certificateChainPath=6 userAnnotations=7:{str}
ProjectedVolumeSource: sources=1:[VolumeProjection] defaultMode=2:int!
VolumeProjection: secret=1:SecretProjection downwardAPI=2:DownwardAPIProjection configMap=3:ConfigMapProjection
    serviceAccountToken=4:ServiceAccountTokenProjection clusterTrustBundle=5:ClusterTrustBundleProjection
    podCertificate=6:PodCertificateProjection
KeyToPath: key=1! path=2! mode=3:int!
CSIVolumeSource: driver=1! readOnly=2:bool! fsType=3! volumeAttributes=4:{str}
    nodePublishSecretRef=5:LocalObjectReference
EphemeralVolumeSource: volumeClaimTemplate=1:PersistentVolumeClaimTemplate
PersistentVolumeClaimTemplate: metadata=1:ObjectMeta spec=2:PersistentVolumeClaimSpec
# core/v1: containers and pods
ContainerPort: name=1 hostPort=2:int containerPort=3:int! protocol=4 hostIP=5
VolumeMount: name=1! readOnly=2:bool recursiveReadOnly=7! mountPath=3! subPath=4 mountPropagation=5! subPathExpr=6
VolumeDevice: name=1! devicePath=2!
EnvVar: name=1! value=2 valueFrom=3:EnvVarSource
EnvVarSource: fieldRef=1:ObjectFieldSelector resourceFieldRef=2:ResourceFieldSelector
    configMapKeyRef=3:ConfigMapKeySelector secretKeyRef=4:SecretKeySelector fileKeyRef=5:FileKeySelector
FileKeySelector: volumeName=1! path=2! key=3! optional=4:bool!
ObjectFieldSelector: apiVersion=1 fieldPath=2!
ResourceFieldSelector: containerName=1 resource=2! divisor=3:Quantity
ConfigMapKeySelector: ...=1:LocalObjectReference key=2! optional=3:bool!
SecretKeySelector: ...=1:LocalObjectReference key=2! optional=3:bool!
EnvFromSource: prefix=1 configMapRef=2:ConfigMapEnvSource secretRef=3:SecretEnvSource
ConfigMapEnvSource: ...=1:LocalObjectReference optional=2:bool!
SecretEnvSource: ...=1:LocalObjectReference optional=2:bool!
HTTPHeader: name=1! value=2!
HTTPGetAction: path=1 port=2:IntOrString host=3 scheme=4 httpHeaders=5:[HTTPHeader]
TCPSocketAction: port=1:IntOrString host=2
GRPCAction: port=1:int! service=2!
ExecAction: command=1:[str]
SleepAction: seconds=1:int!
Probe: ...=1:ProbeHandler initialDelaySeconds=2:int timeoutSeconds=3:int periodSeconds=4:int successThreshold=5:int
    failureThreshold=6:int terminationGracePeriodSeconds=7:int!
ContainerResizePolicy: resourceName=1! restartPolicy=2!
Capabilities: add=1:[str] drop=2:[str]
ResourceRequirements: limits=1:{Quantity} requests=2:{Quantity} claims=3:[ResourceClaim]
VolumeResourceRequirements: limits=1:{Quantity} requests=2:{Quantity}
ResourceClaim: name=1! request=2
Container: name=1! image=2 command=3:[str] args=4:[str] workingDir=5 ports=6:[ContainerPort]
    envFrom=19:[EnvFromSource] env=7:[EnvVar] resources=8:ResourceRequirements
    resizePolicy=23:[ContainerResizePolicy] restartPolicy=24! restartPolicyRules=25:[ContainerRestartRule]
    volumeMounts=9:[VolumeMount] volumeDevices=21:[VolumeDevice] livenessProbe=10:Probe readinessProbe=11:Probe
    startupProbe=22:Probe lifecycle=12:Lifecycle terminationMessagePath=13 terminationMessagePolicy=20
    imagePullPolicy=14 securityContext=15:SecurityContext stdin=16:bool stdinOnce=17:bool tty=18:bool
ProbeHandler: exec=1:ExecAction httpGet=2:HTTPGetAction tcpSocket=3:TCPSocketAction grpc=4:GRPCAction
LifecycleHandler: exec=1:ExecAction httpGet=2:HTTPGetAction tcpSocket=3:TCPSocketAction sleep=4:SleepAction
Lifecycle: postStart=1:LifecycleHandler preStop=2:LifecycleHandler stopSignal=3!
ContainerStateWaiting: reason=1 message=2
ContainerStateRunning: startedAt=1:Time
ContainerStateTerminated: exitCode=1:int! signal=2:int reason=3 message=4 startedAt=5:Time finishedAt=6:Time
    containerID=7
ContainerState: waiting=1:ContainerStateWaiting running=2:ContainerStateRunning
    terminated=3:ContainerStateTerminated
ContainerStatus: name=1! state=2:ContainerState lastState=3:ContainerState ready=4:bool! restartCount=5:int!
    image=6! imageID=7! containerID=8 started=9:bool! allocatedResources=10:{Quantity}
    resources=11:ResourceRequirements volumeMounts=12:[VolumeMountStatus] user=13:ContainerUser
    allocatedResourcesStatus=14:[ResourceStatus] stopSignal=15!
ResourceStatus: name=1! resources=2:[ResourceHealth]
ResourceHealth: resourceID=1! health=2
ContainerUser: linux=1:LinuxContainerUser
LinuxContainerUser: uid=1:int! gid=2:int! supplementalGroups=3:[int]
PodCondition: type=1! observedGeneration=7:int status=2! lastProbeTime=3:Time lastTransitionTime=4:Time reason=5
    message=6
VolumeMountStatus: name=1! mountPath=2! readOnly=3:bool recursiveReadOnly=4! volumeStatus=5:VolumeStatus
VolumeStatus: image=1:ImageVolumeStatus
ImageVolumeStatus: imageRef=1
ContainerRestartRule: action=1 exitCodes=2:ContainerRestartRuleOnExitCodes
ContainerRestartRuleOnExitCodes: operator=1 values=2:[int]
NodeSelector: nodeSelectorTerms=1:[NodeSelectorTerm]
NodeSelectorTerm: matchExpressions=1:[NodeSelectorRequirement] matchFields=2:[NodeSelectorRequirement]
NodeSelectorRequirement: key=1! operator=2! values=3:[str]
TopologySelectorTerm: matchLabelExpressions=1:[TopologySelectorLabelRequirement]
TopologySelectorLabelRequirement: key=1! values=2:[str]
Affinity: nodeAffinity=1:NodeAffinity podAffinity=2:PodAffinity podAntiAffinity=3:PodAntiAffinity
PodAffinity: requiredDuringSchedulingIgnoredDuringExecution=1:[PodAffinityTerm]
    preferredDuringSchedulingIgnoredDuringExecution=2:[WeightedPodAffinityTerm]
PodAntiAffinity: requiredDuringSchedulingIgnoredDuringExecution=1:[PodAffinityTerm]
    preferredDuringSchedulingIgnoredDuringExecution=2:[WeightedPodAffinityTerm]
WeightedPodAffinityTerm: weight=1:int! podAffinityTerm=2:PodAffinityTerm
PodAffinityTerm: labelSelector=1:LabelSelector namespaces=2:[str] topologyKey=3! namespaceSelector=4:LabelSelector
    matchLabelKeys=5:[str] mismatchLabelKeys=6:[str]
NodeAffinity: requiredDuringSchedulingIgnoredDuringExecution=1:NodeSelector
    preferredDuringSchedulingIgnoredDuringExecution=2:[PreferredSchedulingTerm]
PreferredSchedulingTerm: weight=1:int! preference=2:NodeSelectorTerm
Taint: key=1! value=2 effect=3! timeAdded=4:Time
Toleration: key=1 operator=2 value=3 effect=4 tolerationSeconds=5:int!
PodReadinessGate: conditionType=1!
PodSpec: volumes=1:[Volume] initContainers=20:[Container] containers=2:[Container]
    ephemeralContainers=34:[EphemeralContainer] restartPolicy=3 terminationGracePeriodSeconds=4:int!
    activeDeadlineSeconds=5:int! dnsPolicy=6 nodeSelector=7:{str} serviceAccountName=8 serviceAccount=9
    automountServiceAccountToken=21:bool! nodeName=10 hostNetwork=11:bool hostPID=12:bool hostIPC=13:bool
    shareProcessNamespace=27:bool! securityContext=14:PodSecurityContext imagePullSecrets=15:[LocalObjectReference]
    hostname=16 subdomain=17 affinity=18:Affinity schedulerName=19 tolerations=22:[Toleration]
    hostAliases=23:[HostAlias] priorityClassName=24 priority=25:int! dnsConfig=26:PodDNSConfig
    readinessGates=28:[PodReadinessGate] runtimeClassName=29! enableServiceLinks=30:bool! preemptionPolicy=31!
    overhead=32:{Quantity} topologySpreadConstraints=33:[TopologySpreadConstraint] setHostnameAsFQDN=35:bool!
    os=36:PodOS hostUsers=37:bool! schedulingGates=38:[PodSchedulingGate] resourceClaims=39:[PodResourceClaim]
    resources=40:ResourceRequirements hostnameOverride=41! workloadRef=42:WorkloadReference
PodResourceClaim: name=1! resourceClaimName=3! resourceClaimTemplateName=4!
PodResourceClaimStatus: name=1! resourceClaimName=2!
PodExtendedResourceClaimStatus: requestMappings=1:[ContainerExtendedResourceRequest] resourceClaimName=2!
ContainerExtendedResourceRequest: containerName=1! resourceName=2! requestName=3!
PodOS: name=1!
PodSchedulingGate: name=1!
WorkloadReference: name=1! podGroup=2! podGroupReplicaKey=3
TopologySpreadConstraint: maxSkew=1:int! topologyKey=2! whenUnsatisfiable=3! labelSelector=4:LabelSelector
    minDomains=5:int! nodeAffinityPolicy=6! nodeTaintsPolicy=7! matchLabelKeys=8:[str]
HostAlias: ip=1! hostnames=2:[str]
PodSecurityContext: seLinuxOptions=1:SELinuxOptions windowsOptions=8:WindowsSecurityContextOptions runAsUser=2:int!
    runAsGroup=6:int! runAsNonRoot=3:bool! supplementalGroups=4:[int] supplementalGroupsPolicy=12! fsGroup=5:int!
    sysctls=7:[Sysctl] fsGroupChangePolicy=9! seccompProfile=10:SeccompProfile appArmorProfile=11:AppArmorProfile
    seLinuxChangePolicy=13!
SeccompProfile: type=1! localhostProfile=2!
AppArmorProfile: type=1! localhostProfile=2!
PodDNSConfig: nameservers=1:[str] searches=2:[str] options=3:[PodDNSConfigOption]
PodDNSConfigOption: name=1 value=2!
PodIP: ip=1!
HostIP: ip=1!
EphemeralContainer: ...=1:Container targetContainerName=2
PodStatus: observedGeneration=17:int phase=1 conditions=2:[PodCondition] message=3 reason=4 nominatedNodeName=11
    hostIP=5 hostIPs=16:[HostIP] podIP=6 podIPs=12:[PodIP] startTime=7:Time
    initContainerStatuses=10:[ContainerStatus] containerStatuses=8:[ContainerStatus] qosClass=9
    ephemeralContainerStatuses=13:[ContainerStatus] resize=14 resourceClaimStatuses=15:[PodResourceClaimStatus]
    extendedResourceClaimStatus=18:PodExtendedResourceClaimStatus allocatedResources=19:{Quantity}
    resources=20:ResourceRequirements
Pod: metadata=1:ObjectMeta spec=2:PodSpec status=3:PodStatus
PodTemplateSpec: metadata=1:ObjectMeta spec=2:PodSpec
PodTemplate: metadata=1:ObjectMeta template=2:PodTemplateSpec
# core/v1: everything else
ReplicationControllerSpec: replicas=1:int! minReadySeconds=4:int selector=2:{str} template=3:PodTemplateSpec
ReplicationControllerStatus: replicas=1:int! fullyLabeledReplicas=2:int readyReplicas=4:int availableReplicas=5:int
    observedGeneration=3:int conditions=6:[ReplicationControllerCondition]
ReplicationControllerCondition: type=1! status=2! lastTransitionTime=3:Time reason=4 message=5
ReplicationController: metadata=1:ObjectMeta spec=2:ReplicationControllerSpec status=3:ReplicationControllerStatus
SessionAffinityConfig: clientIP=1:ClientIPConfig
ClientIPConfig: timeoutSeconds=1:int!
ServiceStatus: loadBalancer=1:LoadBalancerStatus conditions=2:[Condition]
LoadBalancerStatus: ingress=1:[LoadBalancerIngress]
LoadBalancerIngress: ip=1 hostname=2 ipMode=3! ports=4:[PortStatus]
ServiceSpec: ports=1:[ServicePort] selector=2:{str} clusterIP=3 clusterIPs=18:[str] type=4 externalIPs=5:[str]
    sessionAffinity=7 loadBalancerIP=8 loadBalancerSourceRanges=9:[str] externalName=10 externalTrafficPolicy=11
    healthCheckNodePort=12:int publishNotReadyAddresses=13:bool sessionAffinityConfig=14:SessionAffinityConfig
    ipFamilies=19:[str] ipFamilyPolicy=17! allocateLoadBalancerNodePorts=20:bool! loadBalancerClass=21!
    internalTrafficPolicy=22! trafficDistribution=23!
ServicePort: name=1 protocol=2 appProtocol=6! port=3:int! targetPort=4:IntOrString nodePort=5:int
Service: metadata=1:ObjectMeta spec=2:ServiceSpec status=3:ServiceStatus
ServiceAccount: metadata=1:ObjectMeta secrets=2:[ObjectReference] imagePullSecrets=3:[LocalObjectReference]
    automountServiceAccountToken=4:bool!
Endpoints: metadata=1:ObjectMeta subsets=2:[EndpointSubset]
EndpointSubset: addresses=1:[EndpointAddress] notReadyAddresses=2:[EndpointAddress] ports=3:[EndpointPort]
EndpointAddress: ip=1! hostname=3 nodeName=4! targetRef=2:ObjectReference
EndpointPort: name=1 port=2:int! protocol=3 appProtocol=4!
NodeSpec: podCIDR=1 podCIDRs=7:[str] providerID=3 unschedulable=4:bool taints=5:[Taint]
    configSource=6:NodeConfigSource externalID=2
NodeConfigSource: configMap=2:ConfigMapNodeConfigSource
ConfigMapNodeConfigSource: namespace=1! name=2! uid=3 resourceVersion=4 kubeletConfigKey=5!
DaemonEndpoint: Port=1:int!
NodeDaemonEndpoints: kubeletEndpoint=1:DaemonEndpoint
NodeRuntimeHandlerFeatures: recursiveReadOnlyMounts=1:bool! userNamespaces=2:bool!
NodeRuntimeHandler: name=1! features=2:NodeRuntimeHandlerFeatures
NodeFeatures: supplementalGroupsPolicy=1:bool!
NodeSystemInfo: machineID=1! systemUUID=2! bootID=3! kernelVersion=4! osImage=5! containerRuntimeVersion=6!
    kubeletVersion=7! kubeProxyVersion=8! operatingSystem=9! architecture=10! swap=11:NodeSwapStatus
NodeSwapStatus: capacity=1:int!
NodeConfigStatus: assigned=1:NodeConfigSource active=2:NodeConfigSource lastKnownGood=3:NodeConfigSource error=4
NodeStatus: capacity=1:{Quantity} allocatable=2:{Quantity} phase=3 conditions=4:[NodeCondition]
    addresses=5:[NodeAddress] daemonEndpoints=6:NodeDaemonEndpoints nodeInfo=7:NodeSystemInfo
    images=8:[ContainerImage] volumesInUse=9:[str] volumesAttached=10:[AttachedVolume] config=11:NodeConfigStatus
    runtimeHandlers=12:[NodeRuntimeHandler] features=13:NodeFeatures declaredFeatures=14:[str]
AttachedVolume: name=1! devicePath=2!
ContainerImage: names=1:[str] sizeBytes=2:int
NodeCondition: type=1! status=2! lastHeartbeatTime=3:Time lastTransitionTime=4:Time reason=5 message=6
NodeAddress: type=1! address=2!
Node: metadata=1:ObjectMeta spec=2:NodeSpec status=3:NodeStatus
NamespaceSpec: finalizers=1:[str]
NamespaceStatus: phase=1 conditions=2:[NamespaceCondition]
NamespaceCondition: type=1! status=2! lastTransitionTime=4:Time reason=5 message=6
Namespace: metadata=1:ObjectMeta spec=2:NamespaceSpec status=3:NamespaceStatus
Binding: metadata=1:ObjectMeta target=2:ObjectReference
ObjectReference: kind=1 namespace=2 name=3 uid=4 apiVersion=5 resourceVersion=6 fieldPath=7
LocalObjectReference: name=1
TypedLocalObjectReference: apiGroup=1! kind=2! name=3!
EventSource: component=1 host=2
Event: metadata=1:ObjectMeta involvedObject=2:ObjectReference reason=3 message=4 source=5:EventSource
    firstTimestamp=6:Time lastTimestamp=7:Time count=8:int type=9 eventTime=10:MicroTime series=11:EventSeries
    action=12 related=13:ObjectReference reportingComponent=14! reportingInstance=15!
EventSeries: count=1:int lastObservedTime=2:MicroTime
LimitRangeItem: type=1! max=2:{Quantity} min=3:{Quantity} default=4:{Quantity} defaultRequest=5:{Quantity}
    maxLimitRequestRatio=6:{Quantity}
LimitRangeSpec: limits=1:[LimitRangeItem]
LimitRange: metadata=1:ObjectMeta spec=2:LimitRangeSpec
ResourceQuotaSpec: hard=1:{Quantity} scopes=2:[str] scopeSelector=3:ScopeSelector
ScopeSelector: matchExpressions=1:[ScopedResourceSelectorRequirement]
ScopedResourceSelectorRequirement: scopeName=1! operator=2! values=3:[str]
ResourceQuotaStatus: hard=1:{Quantity} used=2:{Quantity}
ResourceQuota: metadata=1:ObjectMeta spec=2:ResourceQuotaSpec status=3:ResourceQuotaStatus
Secret: metadata=1:ObjectMeta immutable=5:bool! data=2:{bytes} stringData=4:{str} type=3
ConfigMap: metadata=1:ObjectMeta immutable=4:bool! data=2:{str} binaryData=3:{bytes}
DownwardAPIVolumeSource: items=1:[DownwardAPIVolumeFile] defaultMode=2:int!
DownwardAPIVolumeFile: path=1! fieldRef=2:ObjectFieldSelector resourceFieldRef=3:ResourceFieldSelector mode=4:int!
DownwardAPIProjection: items=1:[DownwardAPIVolumeFile]
SecurityContext: capabilities=1:Capabilities privileged=2:bool! seLinuxOptions=3:SELinuxOptions
    windowsOptions=10:WindowsSecurityContextOptions runAsUser=4:int! runAsGroup=8:int! runAsNonRoot=5:bool!
    readOnlyRootFilesystem=6:bool! allowPrivilegeEscalation=7:bool! procMount=9! seccompProfile=11:SeccompProfile
    appArmorProfile=12:AppArmorProfile
SELinuxOptions: user=1 role=2 type=3 level=4
WindowsSecurityContextOptions: gmsaCredentialSpecName=1! gmsaCredentialSpec=2! runAsUserName=3! hostProcess=4:bool!
Sysctl: name=1! value=2!
PortStatus: port=1:int! protocol=2! error=3!
ImageVolumeSource: reference=1 pullPolicy=2
# meta/v1
ObjectMeta: name=1 generateName=2 namespace=3 selfLink=4 uid=5 resourceVersion=6 generation=7:int
    creationTimestamp=8:Time deletionTimestamp=9:Time deletionGracePeriodSeconds=10:int! labels=11:{str}
    annotations=12:{str} ownerReferences=13:[OwnerReference] finalizers=14:[str]
    managedFields=17:[ManagedFieldsEntry]
OwnerReference: apiVersion=5! kind=1! name=3! uid=4! controller=6:bool! blockOwnerDeletion=7:bool!
DeleteOptions: gracePeriodSeconds=1:int! preconditions=2:Preconditions orphanDependents=3:bool! propagationPolicy=4!
    dryRun=5:[str] ignoreStoreReadErrorWithClusterBreakingPotential=6:bool!
Preconditions: uid=1! resourceVersion=2!
LabelSelector: matchLabels=1:{str} matchExpressions=2:[LabelSelectorRequirement]
LabelSelectorRequirement: key=1! operator=2! values=3:[str]
FieldSelectorRequirement: key=1! operator=2! values=3:[str]
ManagedFieldsEntry: manager=1 operation=2 apiVersion=3 time=4:Time fieldsType=6 fieldsV1=7:Raw subresource=8
Condition: type=1! status=2! observedGeneration=3:int lastTransitionTime=4:Time reason=5! message=6!
# apps/v1
StatefulSet: metadata=1:ObjectMeta spec=2:StatefulSetSpec status=3:StatefulSetStatus
StatefulSetUpdateStrategy: type=1 rollingUpdate=2:RollingUpdateStatefulSetStrategy
RollingUpdateStatefulSetStrategy: partition=1:int! maxUnavailable=2:IntOrString
StatefulSetPersistentVolumeClaimRetentionPolicy: whenDeleted=1 whenScaled=2
StatefulSetOrdinals: start=1:int!
StatefulSetSpec: replicas=1:int! selector=2:LabelSelector template=3:PodTemplateSpec
    volumeClaimTemplates=4:[PersistentVolumeClaim] serviceName=5! podManagementPolicy=6
    updateStrategy=7:StatefulSetUpdateStrategy revisionHistoryLimit=8:int! minReadySeconds=9:int
    persistentVolumeClaimRetentionPolicy=10:StatefulSetPersistentVolumeClaimRetentionPolicy
    ordinals=11:StatefulSetOrdinals
StatefulSetStatus: observedGeneration=1:int replicas=2:int! readyReplicas=3:int currentReplicas=4:int
    updatedReplicas=5:int currentRevision=6 updateRevision=7 collisionCount=9:int!
    conditions=10:[StatefulSetCondition] availableReplicas=11:int!
StatefulSetCondition: type=1! status=2! lastTransitionTime=3:Time reason=4 message=5
Deployment: metadata=1:ObjectMeta spec=2:DeploymentSpec status=3:DeploymentStatus
DeploymentSpec: replicas=1:int! selector=2:LabelSelector template=3:PodTemplateSpec strategy=4:DeploymentStrategy
    minReadySeconds=5:int revisionHistoryLimit=6:int! paused=7:bool progressDeadlineSeconds=9:int!
DeploymentStrategy: type=1 rollingUpdate=2:RollingUpdateDeployment
RollingUpdateDeployment: maxUnavailable=1:IntOrString maxSurge=2:IntOrString
DeploymentStatus: observedGeneration=1:int replicas=2:int updatedReplicas=3:int readyReplicas=7:int
    availableReplicas=4:int unavailableReplicas=5:int terminatingReplicas=9:int! conditions=6:[DeploymentCondition]
    collisionCount=8:int!
DeploymentCondition: type=1! status=2! lastUpdateTime=6:Time lastTransitionTime=7:Time reason=4 message=5
DaemonSetUpdateStrategy: type=1 rollingUpdate=2:RollingUpdateDaemonSet
RollingUpdateDaemonSet: maxUnavailable=1:IntOrString maxSurge=2:IntOrString
DaemonSetSpec: selector=1:LabelSelector template=2:PodTemplateSpec updateStrategy=3:DaemonSetUpdateStrategy
    minReadySeconds=4:int revisionHistoryLimit=6:int!
DaemonSetStatus: currentNumberScheduled=1:int! numberMisscheduled=2:int! desiredNumberScheduled=3:int!
    numberReady=4:int! observedGeneration=5:int updatedNumberScheduled=6:int numberAvailable=7:int
    numberUnavailable=8:int collisionCount=9:int! conditions=10:[DaemonSetCondition]
DaemonSetCondition: type=1! status=2! lastTransitionTime=3:Time reason=4 message=5
DaemonSet: metadata=1:ObjectMeta spec=2:DaemonSetSpec status=3:DaemonSetStatus
ReplicaSet: metadata=1:ObjectMeta spec=2:ReplicaSetSpec status=3:ReplicaSetStatus
ReplicaSetSpec: replicas=1:int! minReadySeconds=4:int selector=2:LabelSelector template=3:PodTemplateSpec
ReplicaSetStatus: replicas=1:int! fullyLabeledReplicas=2:int readyReplicas=4:int availableReplicas=5:int
    terminatingReplicas=7:int! observedGeneration=3:int conditions=6:[ReplicaSetCondition]
ReplicaSetCondition: type=1! status=2! lastTransitionTime=3:Time reason=4 message=5
ControllerRevision: metadata=1:ObjectMeta data=2:Raw revision=3:int!
# batch/v1
Job: metadata=1:ObjectMeta spec=2:JobSpec status=3:JobStatus
PodFailurePolicyOnExitCodesRequirement: containerName=1! operator=2! values=3:[int]
PodFailurePolicyOnPodConditionsPattern: type=1! status=2!
PodFailurePolicyRule: action=1! onExitCodes=2:PodFailurePolicyOnExitCodesRequirement
    onPodConditions=3:[PodFailurePolicyOnPodConditionsPattern]
PodFailurePolicy: rules=1:[PodFailurePolicyRule]
SuccessPolicy: rules=1:[SuccessPolicyRule]
SuccessPolicyRule: succeededIndexes=1! succeededCount=2:int!
JobSpec: parallelism=1:int! completions=2:int! activeDeadlineSeconds=3:int! podFailurePolicy=11:PodFailurePolicy
    successPolicy=16:SuccessPolicy backoffLimit=7:int! backoffLimitPerIndex=12:int! maxFailedIndexes=13:int!
    selector=4:LabelSelector manualSelector=5:bool! template=6:PodTemplateSpec ttlSecondsAfterFinished=8:int!
    completionMode=9! suspend=10:bool! podReplacementPolicy=14! managedBy=15!
JobStatus: conditions=1:[JobCondition] startTime=2:Time completionTime=3:Time active=4:int succeeded=5:int
    failed=6:int terminating=11:int! completedIndexes=7 failedIndexes=10!
    uncountedTerminatedPods=8:UncountedTerminatedPods ready=9:int!
UncountedTerminatedPods: succeeded=1:[str] failed=2:[str]
JobCondition: type=1! status=2! lastProbeTime=3:Time lastTransitionTime=4:Time reason=5 message=6
JobTemplateSpec: metadata=1:ObjectMeta spec=2:JobSpec
CronJob: metadata=1:ObjectMeta spec=2:CronJobSpec status=3:CronJobStatus
CronJobSpec: schedule=1! timeZone=8! startingDeadlineSeconds=2:int! concurrencyPolicy=3 suspend=4:bool!
    jobTemplate=5:JobTemplateSpec successfulJobsHistoryLimit=6:int! failedJobsHistoryLimit=7:int!
CronJobStatus: active=1:[ObjectReference] lastScheduleTime=4:Time lastSuccessfulTime=5:Time
# rbac.authorization.k8s.io/v1
PolicyRule: verbs=1:[str] apiGroups=2:[str] resources=3:[str] resourceNames=4:[str] nonResourceURLs=5:[str]
Subject: kind=1! apiGroup=2 name=3! namespace=4
RoleRef: apiGroup=1! kind=2! name=3!
Role: metadata=1:ObjectMeta rules=2:[PolicyRule]
RoleBinding: metadata=1:ObjectMeta subjects=2:[Subject] roleRef=3:RoleRef
ClusterRole: metadata=1:ObjectMeta rules=2:[PolicyRule] aggregationRule=3:AggregationRule
AggregationRule: clusterRoleSelectors=1:[LabelSelector]
ClusterRoleBinding: metadata=1:ObjectMeta subjects=2:[Subject] roleRef=3:RoleRef
# authorization.k8s.io/v1
SubjectAccessReview: metadata=1:ObjectMeta spec=2:SubjectAccessReviewSpec status=3:SubjectAccessReviewStatus
SelfSubjectAccessReview: metadata=1:ObjectMeta spec=2:SelfSubjectAccessReviewSpec status=3:SubjectAccessReviewStatus
LocalSubjectAccessReview: metadata=1:ObjectMeta spec=2:SubjectAccessReviewSpec status=3:SubjectAccessReviewStatus
ResourceAttributes: namespace=1 verb=2 group=3 version=4 resource=5 subresource=6 name=7
    fieldSelector=8:FieldSelectorAttributes labelSelector=9:LabelSelectorAttributes
LabelSelectorAttributes: rawSelector=1 requirements=2:[LabelSelectorRequirement]
FieldSelectorAttributes: rawSelector=1 requirements=2:[FieldSelectorRequirement]
NonResourceAttributes: path=1 verb=2
SubjectAccessReviewSpec: resourceAttributes=1:ResourceAttributes nonResourceAttributes=2:NonResourceAttributes
    user=3 groups=4:[str] extra=5:{ExtraValue} uid=6 authorizationOptions=7:AuthorizationOptions
SelfSubjectAccessReviewSpec: resourceAttributes=1:ResourceAttributes nonResourceAttributes=2:NonResourceAttributes
    authorizationOptions=3:AuthorizationOptions
AuthorizationOptions: handledDecisionTypes=1:[str]
SubjectAccessReviewStatus: allowed=1:bool! denied=4:bool reason=2 evaluationError=3
SelfSubjectRulesReview: metadata=1:ObjectMeta spec=2:SelfSubjectRulesReviewSpec status=3:SubjectRulesReviewStatus
SelfSubjectRulesReviewSpec: namespace=1
SubjectRulesReviewStatus: resourceRules=1:[ResourceRule] nonResourceRules=2:[NonResourceRule] incomplete=3:bool!
    evaluationError=4
ResourceRule: verbs=1:[str] apiGroups=2:[str] resources=3:[str] resourceNames=4:[str]
NonResourceRule: verbs=1:[str] nonResourceURLs=2:[str]
# authentication.k8s.io/v1
TokenReview: metadata=1:ObjectMeta spec=2:TokenReviewSpec status=3:TokenReviewStatus
TokenReviewSpec: token=1 audiences=2:[str]
TokenReviewStatus: authenticated=1:bool user=2:UserInfo audiences=4:[str] error=3
UserInfo: username=1 uid=2 groups=3:[str] extra=4:{ExtraValue}
TokenRequest: metadata=1:ObjectMeta spec=2:TokenRequestSpec status=3:TokenRequestStatus
TokenRequestSpec: audiences=1:[str] expirationSeconds=4:int! boundObjectRef=3:BoundObjectReference
TokenRequestStatus: token=1! expirationTimestamp=2:Time
BoundObjectReference: kind=1 apiVersion=2 name=3 uid=4
SelfSubjectReview: metadata=1:ObjectMeta status=2:SelfSubjectReviewStatus
SelfSubjectReviewStatus: userInfo=1:UserInfo
# policy/v1
PodDisruptionBudgetSpec: minAvailable=1:IntOrString selector=2:LabelSelector maxUnavailable=3:IntOrString
    unhealthyPodEvictionPolicy=4!
PodDisruptionBudgetStatus: observedGeneration=1:int disruptedPods=2:{Time} disruptionsAllowed=3:int!
    currentHealthy=4:int! desiredHealthy=5:int! expectedPods=6:int! conditions=7:[Condition]
PodDisruptionBudget: metadata=1:ObjectMeta spec=2:PodDisruptionBudgetSpec status=3:PodDisruptionBudgetStatus
Eviction: metadata=1:ObjectMeta deleteOptions=2:DeleteOptions
# autoscaling/v1
CrossVersionObjectReference: kind=1! name=2! apiVersion=3
HorizontalPodAutoscalerSpec: scaleTargetRef=1:CrossVersionObjectReference minReplicas=2:int! maxReplicas=3:int!
    targetCPUUtilizationPercentage=4:int!
HorizontalPodAutoscalerStatus: observedGeneration=1:int! lastScaleTime=2:Time currentReplicas=3:int!
    desiredReplicas=4:int! currentCPUUtilizationPercentage=5:int!
HorizontalPodAutoscaler: metadata=1:ObjectMeta spec=2:HorizontalPodAutoscalerSpec
    status=3:HorizontalPodAutoscalerStatus
Scale: metadata=1:ObjectMeta spec=2:ScaleSpec status=3:ScaleStatus
ScaleSpec: replicas=1:int
ScaleStatus: replicas=1:int! selector=2
# networking.k8s.io/v1
Ingress: metadata=1:ObjectMeta spec=2:IngressSpec status=3:IngressStatus
IngressSpec: ingressClassName=4! defaultBackend=1:IngressBackend tls=2:[IngressTLS] rules=3:[IngressRule]
IngressTLS: hosts=1:[str] secretName=2
IngressStatus: loadBalancer=1:IngressLoadBalancerStatus
IngressLoadBalancerStatus: ingress=1:[IngressLoadBalancerIngress]
IngressLoadBalancerIngress: ip=1 hostname=2 ports=4:[IngressPortStatus]
IngressPortStatus: port=1:int! protocol=2! error=3!
IngressRule: host=1 ...=2:IngressRuleValue
IngressRuleValue: http=1:HTTPIngressRuleValue
HTTPIngressRuleValue: paths=1:[HTTPIngressPath]
HTTPIngressPath: path=1 pathType=3! backend=2:IngressBackend
IngressBackend: service=4:IngressServiceBackend resource=3:TypedLocalObjectReference
IngressServiceBackend: name=1! port=2:ServiceBackendPort
ServiceBackendPort: name=1 number=2:int
IngressClass: metadata=1:ObjectMeta spec=2:IngressClassSpec
IngressClassSpec: controller=1 parameters=2:IngressClassParametersReference
IngressClassParametersReference: apiGroup=1! kind=2! name=3! scope=4! namespace=5!
# scheduling.k8s.io/v1
PriorityClass: metadata=1:ObjectMeta value=2:int! globalDefault=3:bool description=4 preemptionPolicy=5!
"""

_SCHEMA = _parse(_TABLE)
