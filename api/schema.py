"""The Kubernetes type tree, as the API server needs it.

One `Schema` node per type or field: its JSON kind, its description (for `kubectl explain` and OpenAPI), and the
list semantics that strategic merge patch and server-side apply depend on (patch strategy, merge key, list type).
Object properties, array items and map values are resolved lazily, because the Kubernetes types are recursive
(JSONSchemaProps contains JSONSchemaProps) and most requests touch only a few of them.

The tree is read from the official `kubernetes` Python client rather than written out by hand: its models carry
every field's JSON name, type, description and whether it is required, for every built-in kind. What they lose
on the way from the Go types is filled in here: the OpenAPI definition names (the client's class names drop the
Go package), the types the generator flattens (IntOrString becomes `object`, Quantity a plain string, MicroTime
a plain date-time) and, from `api.patchmeta`, the list and map semantics the Go struct tags declare.

Each named type (`io.k8s.api.apps.v1.DeploymentSpec`) has one shared node. A field referring to it gets a node of
its own that shares the type's properties but carries the field's description and the field's patch metadata,
since those belong to the field (`DeploymentSpec.strategy` is retainKeys, the DeploymentStrategy type is not).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from kubernetes.client import models

from api import patchmeta
from api.types import Model, OwnType, own_type

Resolver = Callable[[], "Schema"]


@dataclass(eq=False)
class Schema:
    # "object" | "array" | "map" | "string" | "integer" | "number" | "boolean" | "int-or-string" | "any"
    kind: str
    type_name: str = ""  # OpenAPI definition name of a named type, e.g. "io.k8s.api.apps.v1.DeploymentSpec"
    description: str = ""
    format: str = ""  # "int32", "int64", "date-time", "byte", ...
    required: tuple[str, ...] = ()
    # On arrays (and maps): how strategic merge patch merges them; see
    # https://kubernetes.io/docs/tasks/manage-kubernetes-objects/update-api-object-kubectl-patch/
    patch_strategy: str = ""  # "", "merge", "replace", "retainKeys", "merge,retainKeys"
    patch_merge_key: str = ""
    # On arrays: how server-side apply tracks ownership ("atomic", "set", "map") and the keys of a "map" list.
    list_type: str = ""
    list_map_keys: tuple[str, ...] = ()
    list_map_key_defaults: tuple[tuple[str, str], ...] = ()
    enum: tuple[str, ...] = ()
    # On maps and objects: "atomic" when server-side apply owns the whole value as one field.
    map_type: str = ""
    # On objects: fields the schema does not declare are kept rather than unknown.
    preserve_unknown: bool = False
    properties_factory: Callable[[], dict[str, Schema]] | None = field(default=None, repr=False)
    items_factory: Resolver | None = field(default=None, repr=False)
    values_factory: Resolver | None = field(default=None, repr=False)
    _properties: dict[str, Schema] | None = field(default=None, repr=False)
    _items: Schema | None = field(default=None, repr=False)
    _values: Schema | None = field(default=None, repr=False)

    @property
    def properties(self) -> dict[str, Schema]:
        if self._properties is None:
            self._properties = self.properties_factory() if self.properties_factory else {}
        return self._properties

    @property
    def items(self) -> Schema | None:
        if self._items is None and self.items_factory is not None:
            self._items = self.items_factory()
        return self._items

    @property
    def values(self) -> Schema | None:
        if self._values is None and self.values_factory is not None:
            self._values = self.values_factory()
        return self._values

    def child(self, name: str) -> Schema | None:
        return self.properties.get(name)


META_GROUP = "meta.k8s.io"  # the group meta/v1 types (ObjectMeta, Status, DeleteOptions, ...) are named under
META = "io.k8s.apimachinery.pkg.apis.meta.v1."
OBJECT_META = META + "ObjectMeta"
LIST_META = META + "ListMeta"
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
TIME = META + "Time"
MICRO_TIME = META + "MicroTime"
FIELDS_V1 = META + "FieldsV1"
RAW_EXTENSION = "io.k8s.apimachinery.pkg.runtime.RawExtension"

# Groups whose Go packages are not named after the group's first label.
_PACKAGES = {
    "": "io.k8s.api.core",
    META_GROUP: "io.k8s.apimachinery.pkg.apis.meta",
    "internal.apiserver.k8s.io": "io.k8s.api.apiserverinternal",
    "apiextensions.k8s.io": "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions",
    "apiregistration.k8s.io": "io.k8s.kube-aggregator.pkg.apis.apiregistration",
}

# Types of k8s.io/apimachinery/pkg/apis/meta/v1 that the client names like any other `V1...` model.
_META_TYPES = frozenset(
    {
        "APIGroup",
        "APIGroupList",
        "APIResource",
        "APIResourceList",
        "APIVersions",
        "Condition",
        "DeleteOptions",
        "GroupVersionForDiscovery",
        "LabelSelector",
        "LabelSelectorRequirement",
        "ListMeta",
        "ManagedFieldsEntry",
        "ObjectMeta",
        "OwnerReference",
        "Preconditions",
        "ServerAddressByClientCIDR",
        "Status",
        "StatusCause",
        "StatusDetails",
        "WatchEvent",
    }
)

# The top-level kinds of the core group: every model reachable from them (but meta/v1's) lives in core/v1.
_CORE_ROOTS = (
    "V1Pod",
    "V1PodTemplate",
    "V1Service",
    "V1Endpoints",
    "V1Node",
    "V1Namespace",
    "V1ConfigMap",
    "V1Secret",
    "V1ServiceAccount",
    "CoreV1Event",
    "V1PersistentVolume",
    "V1PersistentVolumeClaim",
    "V1LimitRange",
    "V1ResourceQuota",
    "V1ReplicationController",
    "V1ComponentStatus",
    "V1Binding",
)

# Fields the client models type loosely, keyed by (type name without package, JSON field name).
_INT_OR_STRING_FIELDS = frozenset(
    {
        ("RollingUpdateDeployment", "maxSurge"),
        ("RollingUpdateDeployment", "maxUnavailable"),
        ("RollingUpdateDaemonSet", "maxSurge"),
        ("RollingUpdateDaemonSet", "maxUnavailable"),
        ("RollingUpdateStatefulSetStrategy", "maxUnavailable"),
        ("ServicePort", "targetPort"),
        ("HTTPGetAction", "port"),
        ("TCPSocketAction", "port"),
        ("NetworkPolicyPort", "port"),
        ("PodDisruptionBudgetSpec", "minAvailable"),
        ("PodDisruptionBudgetSpec", "maxUnavailable"),
    }
)
_QUANTITY_FIELDS = frozenset(
    {
        ("ResourceRequirements", "limits"),
        ("ResourceRequirements", "requests"),
        ("VolumeResourceRequirements", "limits"),
        ("VolumeResourceRequirements", "requests"),
        ("PodSpec", "overhead"),
        ("ContainerStatus", "allocatedResources"),
        ("ResourceFieldSelector", "divisor"),
        ("EmptyDirVolumeSource", "sizeLimit"),
        ("PersistentVolumeSpec", "capacity"),
        ("PersistentVolumeClaimStatus", "capacity"),
        ("PersistentVolumeClaimStatus", "allocatedResources"),
        ("NodeStatus", "capacity"),
        ("NodeStatus", "allocatable"),
        ("ResourceQuotaSpec", "hard"),
        ("ResourceQuotaStatus", "hard"),
        ("ResourceQuotaStatus", "used"),
        ("LimitRangeItem", "max"),
        ("LimitRangeItem", "min"),
        ("LimitRangeItem", "default"),
        ("LimitRangeItem", "defaultRequest"),
        ("LimitRangeItem", "maxLimitRequestRatio"),
    }
)
_MICRO_TIME_FIELDS = frozenset(
    {
        ("Event", "eventTime"),
        ("EventSeries", "lastObservedTime"),
        ("LeaseSpec", "acquireTime"),
        ("LeaseSpec", "renewTime"),
    }
)
_NAMED_FREE_FORM = {
    ("ManagedFieldsEntry", "fieldsV1"): FIELDS_V1,
    ("ControllerRevision", "data"): RAW_EXTENSION,
    ("WatchEvent", "object"): RAW_EXTENSION,
}
# Integer fields the Go types declare int64 (every other integer is int32).
_INT64_FIELDS = frozenset(
    {
        "activeDeadlineSeconds",
        "deletionGracePeriodSeconds",
        "expirationSeconds",
        "fsGroup",
        "generation",
        "gracePeriodSeconds",
        "limitBytes",
        "observedGeneration",
        "revision",
        "runAsGroup",
        "runAsUser",
        "seconds",
        "sinceSeconds",
        "supplementalGroups",
        "tailLines",
        "terminationGracePeriodSeconds",
        "tolerationSeconds",
    }
)

# What the client leaves undescribed on every kind (it drops the descriptions of fields that refer to a type).
_STANDARD_FIELDS = {
    ("metadata", OBJECT_META): "Standard object metadata: the name, namespace, labels and annotations, and the "
    "fields the system maintains.",
    ("metadata", LIST_META): "Standard list metadata: the resource version and continue token of the list.",
}

_CLASS_PREFIX = re.compile(r"^(?:[A-Z][a-z]+)?V\d+(?:(?:alpha|beta)\d+)?(?=[A-Z])")
_LIST_TYPE = re.compile(r"^(?:List\[|list\[)(.+)\]$")
_DICT_TYPE = re.compile(r"^(?:Dict\[str, |dict\(str, )(.+)[\])]$")
_GENERATED_CLASS_DOC = "NOTE: This class is auto generated"
_NOQA = "# noqa: E501"


def definition_name(group: str, version: str, kind: str) -> str:
    """The OpenAPI definition name kube-apiserver gives a kind: `io.k8s.api.apps.v1.Deployment`.

    Groups outside Kubernetes' own are named like custom resources are, by the reversed group:
    `dev.canopy.v1alpha1.Workspace` for group `canopy.dev`.
    """
    return f"{_package(group, version)}.{kind}"


@cache
def schema_for(group: str, version: str, kind: str) -> Schema | None:
    """The type tree of a kind the official client knows, or one of Canopy's own types, or None
    (`("apps", "v1", "Deployment")`).

    Cached: every write looks its kind up, and finding the client's model class is an import-machinery walk.
    """
    own = own_type(group, kind)
    if own is not None and own.resource.version == version:
        return own_type_schema(own)
    cls = _model_class(group, version, kind)
    return _type_node(cls, _package(group, version)) if cls is not None else None


@cache
def resolve_schema(group: str, version: str, kind: str) -> Schema:
    """`schema_for`, falling back to `permissive_schema` for kinds the client does not know."""
    return schema_for(group, version, kind) or permissive_schema(group, version, kind)


def permissive_schema(group: str, version: str, kind: str) -> Schema:
    """An object with standard type and object metadata that keeps whatever other fields it is given."""
    return Schema(
        "object",
        type_name=definition_name(group, version, kind),
        preserve_unknown=True,
        properties_factory=lambda: {
            "apiVersion": Schema("string"),
            "kind": Schema("string"),
            "metadata": _field_of(_meta(OBJECT_META), _STANDARD_FIELDS["metadata", OBJECT_META]),
        },
    )


def resolve_list_schema(group: str, version: str, kind: str) -> Schema:
    """The schema of `<kind>List`: the client's, or a list of `resolve_schema(...)` items for unknown kinds."""
    known = schema_for(group, version, kind + "List")
    if known is not None:
        return known
    item = resolve_schema(group, version, kind)
    return Schema(
        "object",
        type_name=definition_name(group, version, kind + "List"),
        required=("items",),
        properties_factory=lambda: {
            "apiVersion": Schema("string"),
            "kind": Schema("string"),
            "metadata": _field_of(_meta(LIST_META), _STANDARD_FIELDS["metadata", LIST_META]),
            "items": Schema("array", list_type="atomic", items_factory=lambda: item),
        },
    )


def definition(name: str) -> Schema | None:
    """The shared node of a named type met so far (every `type_name` in a tree resolves here)."""
    return _named_scalars().get(name) or _nodes.get(name)


def _package(group: str, version: str) -> str:
    if group in _PACKAGES:
        return f"{_PACKAGES[group]}.{version}"
    if group.endswith(".k8s.io") or "." not in group:
        return f"io.k8s.api.{group.split('.')[0]}.{version}"
    return ".".join([*reversed(group.split(".")), version])


def _short_name(class_name: str) -> str:
    """`V1DeploymentSpec` -> `DeploymentSpec`, `CoreV1Event` -> `Event`."""
    return _CLASS_PREFIX.sub("", class_name)


def _model(class_name: str) -> type | None:
    cls = getattr(models, class_name, None)
    return cls if isinstance(cls, type) and hasattr(cls, "openapi_types") else None


def _model_class(group: str, version: str, kind: str) -> type | None:
    version_prefix = version[:1].upper() + version[1:]
    group_prefix = "Core" if group == "" else group.split(".")[0].capitalize()
    for class_name in (group_prefix + version_prefix + kind, version_prefix + kind):
        cls = _model(class_name)
        if cls is None:
            continue
        in_meta = _short_name(class_name) in _META_TYPES
        in_core = class_name in _core_classes()
        if (
            (group == META_GROUP and in_meta)
            or (group == "" and in_core)
            or (group not in ("", META_GROUP) and not in_meta and not in_core)
        ):
            return cls
    return None


@cache
def _core_classes() -> frozenset[str]:
    """Names of the client models that are core/v1 types."""
    found: set[str] = set()
    pending = [name for name in _CORE_ROOTS if _model(name) is not None]
    while pending:
        name = pending.pop()
        if name in found or _short_name(name) in _META_TYPES:
            continue
        found.add(name)
        cls = _model(name)
        for type_string in cls.openapi_types.values() if cls else ():
            pending.extend(ref for ref in re.findall(r"[A-Za-z0-9]+", type_string) if _model(ref) is not None)
    return frozenset(found)


def _package_of(class_name: str, enclosing_package: str) -> str:
    if _short_name(class_name) in _META_TYPES:
        return _package(META_GROUP, "v1")
    if class_name in _core_classes():
        return _package("", "v1")
    return enclosing_package


_nodes: dict[str, Schema] = {}


def _meta(name: str) -> Schema:
    node = schema_for(META_GROUP, "v1", name.removeprefix(META))
    if node is None:
        raise LookupError(f"the kubernetes client has no model for {name}")
    return node


def _type_node(cls: type, package: str) -> Schema:
    name = f"{package}.{_short_name(cls.__name__)}"
    node = _nodes.get(name)
    if node is None:
        docs = _field_docs(cls)
        node = Schema(
            "object",
            type_name=name,
            description=_class_description(cls),
            required=_required(cls, docs),
            map_type="atomic" if name in patchmeta.ATOMIC_STRUCTS else "",
            properties_factory=lambda: _properties(cls, name, package, docs),
        )
        _nodes[name] = node
    return node


def _properties(cls: type, name: str, package: str, docs: dict[str, tuple[str, bool]]) -> dict[str, Schema]:
    owner = _short_name(cls.__name__)
    properties: dict[str, Schema] = {}
    for attr, type_string in cls.openapi_types.items():
        json_name = cls.attribute_map[attr]
        value = _value_schema(type_string, owner, json_name, package)
        description = (
            docs.get(attr, ("", False))[0]
            or _STANDARD_FIELDS.get((json_name, value.type_name), "")
            or _kind_field_description(cls, owner, json_name)
        )
        node = _field_of(value, description)
        meta = patchmeta.field_meta(name, json_name)
        if meta is not None:
            node.patch_strategy = meta.patch_strategy
            node.patch_merge_key = meta.patch_merge_key
            node.list_type = meta.list_type
            node.list_map_keys = meta.list_map_keys
            node.list_map_key_defaults = meta.list_map_key_defaults
            node.map_type = meta.map_type or node.map_type
        if node.kind == "array" and not node.list_type:
            node.list_type = "atomic"
        properties[json_name] = node
    return properties


def _kind_field_description(cls: type, kind: str, json_name: str) -> str:
    """The spec and status of a kind, which the client leaves undescribed, in Kubernetes' standard wording."""
    if "kind" not in cls.attribute_map.values():
        return ""
    if json_name == "spec":
        return f"Specification of the desired behavior of the {kind}."
    if json_name == "status":
        return f"Most recently observed status of the {kind}."
    return ""


def _required(cls: type, docs: dict[str, tuple[str, bool]]) -> tuple[str, ...]:
    """Required fields; the client marks some kinds' `spec` required, which Kubernetes' own schema never does."""
    names = tuple(cls.attribute_map[attr] for attr, (_, required) in docs.items() if required)
    if "kind" in cls.attribute_map.values():
        names = tuple(n for n in names if n not in ("spec", "status"))
    return names


def _field_of(value: Schema, description: str) -> Schema:
    """The node of a field holding `value`: its own node, sharing a named type's properties."""
    if not value.type_name:
        value.description = description
        return value
    return Schema(
        value.kind,
        type_name=value.type_name,
        description=description,
        format=value.format,
        required=value.required,
        map_type=value.map_type,
        preserve_unknown=value.preserve_unknown,
        properties_factory=(lambda: value.properties) if value.kind == "object" else None,
    )


def _value_schema(type_string: str, owner: str, json_name: str, package: str) -> Schema:
    """The schema of a value of the client's `openapi_types` type, found in field `json_name` of `owner`."""
    if (match := _LIST_TYPE.match(type_string)) is not None:
        inner = match.group(1)
        return Schema("array", items_factory=lambda: _value_schema(inner, owner, json_name, package))
    if (match := _DICT_TYPE.match(type_string)) is not None:
        inner = match.group(1)
        return Schema("map", values_factory=lambda: _value_schema(inner, owner, json_name, package))
    named = _named_scalars()
    if (owner, json_name) in _QUANTITY_FIELDS:
        return named[QUANTITY]
    if type_string == "str":
        return Schema("string")
    if type_string in ("bytes", "bytearray"):
        return Schema("string", format="byte")
    if type_string == "int":
        return Schema("integer", format="int64" if json_name in _INT64_FIELDS else "int32")
    if type_string == "float":
        return Schema("number", format="double")
    if type_string == "bool":
        return Schema("boolean")
    if type_string == "date":
        return Schema("string", format="date")
    if type_string == "datetime":
        return named[MICRO_TIME if (owner, json_name) in _MICRO_TIME_FIELDS else TIME]
    if (owner, json_name) in _INT_OR_STRING_FIELDS:
        return named[INT_OR_STRING]
    if (owner, json_name) in _NAMED_FREE_FORM:
        return named[_NAMED_FREE_FORM[owner, json_name]]
    cls = _model(type_string)
    if cls is not None:
        return _type_node(cls, _package_of(type_string, package))
    return Schema("any")


@cache
def _named_scalars() -> dict[str, Schema]:
    """Named types whose JSON form is not an object of declared fields."""
    return {
        INT_OR_STRING: Schema(
            "int-or-string",
            type_name=INT_OR_STRING,
            format="int-or-string",
            description="Either an integer or a string: a port number or name, a count or a percentage.",
        ),
        QUANTITY: Schema(
            "string",
            type_name=QUANTITY,
            description="An amount in fixed-point decimal form with an optional SI or binary suffix, "
            "such as 500m, 2Gi or 1e3.",
        ),
        TIME: Schema(
            "string", type_name=TIME, format="date-time", description="A point in time in RFC 3339 form, to the second."
        ),
        MICRO_TIME: Schema(
            "string",
            type_name=MICRO_TIME,
            format="date-time",
            description="A point in time in RFC 3339 form, to the microsecond.",
        ),
        FIELDS_V1: Schema(
            "any",
            type_name=FIELDS_V1,
            description="The set of fields a manager owns, as a trie of field, key and value selectors.",
        ),
        RAW_EXTENSION: Schema(
            "any",
            type_name=RAW_EXTENSION,
            description="An embedded object of any kind, kept as the client sent it.",
        ),
    }


def _class_description(cls: type) -> str:
    doc = inspect.cleandoc(cls.__doc__ or "")
    if doc.startswith(_GENERATED_CLASS_DOC):
        return ""
    return doc.split("Attributes:")[0].strip()


def _field_docs(cls: type) -> dict[str, tuple[str, bool]]:
    """Each attribute's description and whether it is required.

    Current clients are pydantic models that state both on the field; older ones only say it in the property
    getter's docstring and in the setter's `ValueError` for a missing value.
    """
    fields: dict[str, Any] | None = getattr(cls, "model_fields", None)
    if fields:
        by_json_name = {info.serialization_alias or name: info for name, info in fields.items()}
        return {
            attr: (by_json_name[json_name].description or "", by_json_name[json_name].is_required())
            for attr, json_name in cls.attribute_map.items()
            if json_name in by_json_name
        }
    source = inspect.getsource(cls)
    return {
        attr: (_getter_description(cls, attr), f"Invalid value for `{attr}`, must not be `None`" in source)
        for attr in cls.attribute_map
    }


def _getter_description(cls: type, attr: str) -> str:
    getter = getattr(cls, attr, None)
    doc = inspect.cleandoc(getter.__doc__ or "") if isinstance(getter, property) else ""
    lines = [line.replace(_NOQA, "").strip() for line in doc.splitlines()]
    kept = [
        line
        for line in lines[1:]  # the first line is "Gets the <attr> of this <class>."
        if line and not line.startswith((":return:", ":rtype:"))
    ]
    return " ".join(kept)


# ---- Canopy's own types (pydantic models, api/types) -------------------------------------------------------

_SCALARS = {"string": "string", "integer": "integer", "number": "number", "boolean": "boolean"}


def own_type_schema(own: OwnType) -> Schema:
    rt = own.resource
    base = resolve_schema("meta.k8s.io", "v1", "ObjectMeta")
    properties: dict[str, Schema] = {
        "apiVersion": Schema("string", description="The versioned schema of this object: " + rt.api_version + "."),
        "kind": Schema("string", description="The kind of this object: " + rt.kind + "."),
        "metadata": base,
    }
    for name, model in (("spec", own.spec), ("status", own.status)):
        if model is not None:
            properties[name] = model_schema(model, rt.group, rt.version)
    root = Schema(
        "object",
        type_name=definition_name(rt.group, rt.version, rt.kind),
        description=(own.spec.__doc__ or "").strip() if own.spec else "",
        properties_factory=lambda: properties,
    )
    _nodes.setdefault(root.type_name, root)
    return root


def model_schema(model: type[Model], group: str, version: str) -> Schema:
    document = model.model_json_schema(by_alias=True)
    definitions: dict[str, Any] = document.get("$defs", {})
    nodes: dict[str, Schema] = {}

    def node(spec: dict[str, Any]) -> Schema:
        if "$ref" in spec:
            name = spec["$ref"].rsplit("/", 1)[-1]
            if name not in nodes:
                nodes[name] = _object(definitions[name], name)
            return nodes[name]
        if "anyOf" in spec:  # Optional[X]: the non-null branch
            branches = [s for s in spec["anyOf"] if s.get("type") != "null"]
            return node({**branches[0], "description": spec.get("description", "")}) if branches else Schema("any")
        kind = spec.get("type")
        if kind == "object" and "properties" in spec:
            return _object(spec, spec.get("title", ""))
        if kind == "object":
            values = spec.get("additionalProperties")
            if isinstance(values, dict):
                return Schema("map", description=spec.get("description", ""), values_factory=lambda: node(values))
            return Schema("any", description=spec.get("description", ""), preserve_unknown=True)
        if kind == "array":
            items = spec.get("items", {})
            return Schema("array", description=spec.get("description", ""), list_type="atomic",
                          items_factory=lambda: node(items))
        return Schema(_SCALARS.get(kind or "", "any"), description=spec.get("description", ""),
                      enum=tuple(spec.get("enum", ())))

    def _object(spec: dict[str, Any], name: str) -> Schema:
        props = spec.get("properties", {})
        built = Schema(
            "object",
            type_name=definition_name(group, version, name) if name else "",
            description=spec.get("description", ""),
            required=tuple(spec.get("required", ())),
            properties_factory=lambda: {key: node(value) for key, value in props.items()},
        )
        if built.type_name:
            _nodes.setdefault(built.type_name, built)  # so `definition()` (OpenAPI, explain) finds it by name
        return built

    root = document if "$ref" not in document else definitions[document["$ref"].rsplit("/", 1)[-1]]
    return _object(root, model.__name__)
