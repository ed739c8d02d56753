"""The OpenAPI documents kube-apiserver publishes, built from the resource registry and the type tree.

Clients read these documents to decide how to talk to the server, so their shape matters more than their prose:

* kubectl (1.27+) decides whether the server validates fields itself by finding, in the OpenAPI v3 document of
  the resource's group-version, the PATCH operation whose `x-kubernetes-group-version-kind` is the resource's
  kind, and looking for a `fieldValidation` query parameter on it (cli-runtime `query_param_verifier_v3.go`).
  The first matching PATCH operation decides, so every PATCH of a kind (the resource's, and its `/status`)
  carries the parameter.
* `kubectl apply` builds its strategic merge patch from the component schema whose
  `x-kubernetes-group-version-kind` list names the kind, following `allOf`/`$ref` for the patch strategy and
  merge key of each field, and only if that kind's PATCH accepts `application/strategic-merge-patch+json`
  (kubectl `apply/patcher.go`).
* `kubectl explain` finds the kind through the GVK of an operation on the resource's path, then the component
  with that GVK, and walks `properties`, `items`, `additionalProperties` and `allOf` for the field path
  (kubectl `explain/v2/templates/plaintext.tmpl`).

The v3 root lists one document per group-version with a content hash in its URL, which clients use as a cache
key. Everything here is deterministic, so a document and its hash change only when the registry or the types do.

`/openapi/v2` is built as Swagger 2.0 JSON. kubectl 1.32 only asks for v2 (and then in gnostic protobuf) when a
v3 lookup fails or for `explain --output plaintext-openapiv2`, so the v3 documents are the ones that matter.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from api.registry import Registry, ResourceType
from api.schema import (
    META,
    META_GROUP,
    QUANTITY,
    Schema,
    definition,
    definition_name,
    resolve_list_schema,
    resolve_schema,
    schema_for,
)

PATCH = META + "Patch"
STATUS = META + "Status"
DELETE_OPTIONS = META + "DeleteOptions"
WATCH_EVENT = META + "WatchEvent"
API_RESOURCE_LIST = META + "APIResourceList"
SCALE_GVK = {"group": "autoscaling", "kind": "Scale", "version": "v1"}

JSON = "application/json"
YAML = "application/yaml"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
PATCH_TYPES = ("application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json")
WATCH_TYPES = ("application/json;stream=watch",)

_PARAMETERS: dict[str, tuple[str, str]] = {
    "allowWatchBookmarks": ("boolean", "Ask for BOOKMARK events on a watch; servers may send them at any time."),
    "continue": ("string", "The continue token of the previous page of a paginated list."),
    "dryRun": ("string", "'All' processes the request fully without persisting anything."),
    "fieldManager": ("string", "The name of the actor making the change, recorded in managedFields."),
    "fieldSelector": ("string", "Restrict the listed objects by their fields."),
    "fieldValidation": (
        "string",
        "How to treat fields of the body that the schema does not know, and duplicate fields: 'Ignore' drops "
        "them, 'Warn' drops them with a warning header each, 'Strict' fails the request.",
    ),
    "force": ("boolean", "On apply, take ownership of fields other managers own."),
    "gracePeriodSeconds": ("integer", "Seconds before the object is deleted; zero deletes at once."),
    "ignoreStoreReadErrorWithClusterBreakingPotential": (
        "boolean",
        "Delete an object that cannot be read back from storage.",
    ),
    "labelSelector": ("string", "Restrict the listed objects by their labels."),
    "limit": ("integer", "The most objects to return; a continue token in the list metadata fetches the rest."),
    "orphanDependents": ("boolean", "Deprecated: use propagationPolicy."),
    "pretty": ("string", "'true' indents the response."),
    "propagationPolicy": (
        "string",
        "Whether and how dependents are garbage collected: Orphan, Background, Foreground.",
    ),
    "resourceVersion": ("string", "The resource version to read at or watch from."),
    "resourceVersionMatch": ("string", "How resourceVersion applies to a list: Exact or NotOlderThan."),
    "sendInitialEvents": ("boolean", "Start a watch with synthetic ADDED events for the current state."),
    "timeoutSeconds": ("integer", "End the list or watch call after this many seconds."),
    "watch": ("boolean", "Watch for changes instead of listing."),
    "container": ("string", "The container to read the log of; may be omitted if the pod has only one."),
    "follow": ("boolean", "Stream the log as it grows."),
    "insecureSkipTLSVerifyBackend": ("boolean", "Do not verify the kubelet's serving certificate."),
    "limitBytes": ("integer", "Stop after this many bytes."),
    "previous": ("boolean", "The log of the previous, terminated container instance."),
    "sinceSeconds": ("integer", "Only lines newer than this many seconds."),
    "stream": ("string", "Which stream of the log: All, Stdout or Stderr."),
    "tailLines": ("integer", "Only this many lines from the end of the log."),
    "timestamps": ("boolean", "Prefix every line with its RFC 3339 timestamp."),
    "name": ("string", "The name of the object."),
    "namespace": ("string", "The namespace of the object."),
}
_LIST_PARAMETERS = (
    "allowWatchBookmarks", "continue", "fieldSelector", "labelSelector", "limit", "resourceVersion",
    "resourceVersionMatch", "sendInitialEvents", "timeoutSeconds", "watch",
)  # fmt: skip
_WRITE_PARAMETERS = ("dryRun", "fieldManager", "fieldValidation")
_DELETE_PARAMETERS = (
    "dryRun", "gracePeriodSeconds", "ignoreStoreReadErrorWithClusterBreakingPotential", "orphanDependents",
    "propagationPolicy",
)  # fmt: skip
_DELETE_COLLECTION_PARAMETERS = (
    "continue", "dryRun", "fieldSelector", "gracePeriodSeconds", "ignoreStoreReadErrorWithClusterBreakingPotential",
    "labelSelector", "limit", "orphanDependents", "propagationPolicy", "resourceVersion", "resourceVersionMatch",
    "sendInitialEvents", "timeoutSeconds",
)  # fmt: skip
_LOG_PARAMETERS = (
    "container", "follow", "insecureSkipTLSVerifyBackend", "limitBytes", "previous", "sinceSeconds", "stream",
    "tailLines", "timestamps",
)  # fmt: skip


@dataclass(frozen=True)
class _Style:
    """What differs between the two OpenAPI versions kube-apiserver speaks."""

    v3: bool

    @property
    def ref_prefix(self) -> str:
        return "#/components/schemas/" if self.v3 else "#/definitions/"

    def ref(self, name: str) -> dict[str, str]:
        return {"$ref": self.ref_prefix + name}


_V2 = _Style(v3=False)
_V3 = _Style(v3=True)


def openapi_v3_path(group: str, version: str) -> str:
    """The key of a group-version in the v3 root: `api/v1`, `apis/apps/v1`."""
    return f"apis/{group}/{version}" if group else f"api/{version}"


def group_version_of_path(path: str) -> tuple[str, str] | None:
    """The (group, version) a v3 document path names, the reverse of `openapi_v3_path`."""
    parts = path.strip("/").split("/")
    if len(parts) == 2 and parts[0] == "api":
        return "", parts[1]
    if len(parts) == 3 and parts[0] == "apis":
        return parts[1], parts[2]
    return None


def document_hash(document: dict[str, Any]) -> str:
    """The content hash kube-apiserver puts in `serverRelativeURL`: SHA-512 of the document, in upper hex."""
    encoded = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha512(encoded).hexdigest().upper()


def openapi_v3_root(registry: Registry) -> dict[str, Any]:
    """`GET /openapi/v3`: where to find each group-version's document."""
    paths: dict[str, Any] = {}
    for group, versions in registry.group_versions().items():
        for version in versions:
            document = openapi_v3_group_version(registry, group, version)
            if document is None:
                continue
            path = openapi_v3_path(group, version)
            paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={document_hash(document)}"}
    return {"paths": paths}


def openapi_v3_group_version(registry: Registry, group: str, version: str) -> dict[str, Any] | None:
    """`GET /openapi/v3/api/v1`, `/openapi/v3/apis/<group>/<version>`: an OpenAPI 3.0 document, or None."""
    resources = registry.in_group_version(group, version)
    if not resources:
        return None
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "unversioned"},
        "paths": _paths(resources, group, version, _V3),
        "components": {
            "schemas": _definitions(resources, group, version, _V3),
            "securitySchemes": {"BearerToken": _bearer_token()},
        },
        "security": [{"BearerToken": []}],
    }


def openapi_v2(registry: Registry, version: str = "unversioned") -> dict[str, Any]:
    """`GET /openapi/v2`: one Swagger 2.0 document for every group-version."""
    paths: dict[str, Any] = {}
    definitions: dict[str, Any] = {}
    for group, versions in registry.group_versions().items():
        for group_version in versions:
            resources = registry.in_group_version(group, group_version)
            paths.update(_paths(resources, group, group_version, _V2))
            for name, schema in _definitions(resources, group, group_version, _V2).items():
                known = definitions.setdefault(name, schema)
                for gvk in schema.get("x-kubernetes-group-version-kind", ()):
                    merged = known.setdefault("x-kubernetes-group-version-kind", [])
                    if gvk not in merged:
                        merged.append(gvk)
    return {
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": version},
        "paths": dict(sorted(paths.items())),
        "definitions": dict(sorted(definitions.items())),
        "securityDefinitions": {"BearerToken": _bearer_token()},
        "security": [{"BearerToken": []}],
    }


def _bearer_token() -> dict[str, str]:
    return {"description": "Bearer token authentication", "in": "header", "name": "authorization", "type": "apiKey"}


# Component schemas


def _gvk(group: str, version: str, kind: str) -> dict[str, str]:
    return {"group": group, "kind": kind, "version": version}


def _definitions(resources: list[ResourceType], group: str, version: str, style: _Style) -> dict[str, Any]:
    """Every type the group-version's operations refer to, directly or through a field."""
    gvks: dict[str, list[dict[str, str]]] = {
        STATUS: [_gvk("", "v1", "Status")],
        DELETE_OPTIONS: [_gvk(group, version, "DeleteOptions")],
        WATCH_EVENT: [_gvk(group, version, "WatchEvent")],
    }
    roots: list[Schema] = []
    for resource in resources:
        kind = resolve_schema(resource.group, resource.version, resource.kind)
        listing = resolve_list_schema(resource.group, resource.version, resource.kind)
        roots += [kind, listing]
        gvks[kind.type_name] = [_gvk(group, version, resource.kind)]
        gvks[listing.type_name] = [_gvk(group, version, resource.list_kind)]
        if "scale" in resource.subresources:
            scale = _required_schema("autoscaling", "v1", "Scale")
            roots.append(scale)
            gvks[scale.type_name] = [SCALE_GVK]
    roots += [_required_schema(META_GROUP, "v1", kind) for kind in ("Status", "DeleteOptions", "WatchEvent")]
    roots.append(_required_schema(META_GROUP, "v1", "APIResourceList"))
    schemas = {name: _component(node, gvks.get(name, []), style) for name, node in _reachable(roots).items()}
    schemas[PATCH] = {
        "description": "The body of a PATCH request, in the format its content type names.",
        "type": "object",
    }
    return dict(sorted(schemas.items()))


def _required_schema(group: str, version: str, kind: str) -> Schema:
    node = schema_for(group, version, kind)
    if node is None:
        raise LookupError(f"the kubernetes client has no model for {group}/{version} {kind}")
    return node


def _reachable(roots: Iterable[Schema]) -> dict[str, Schema]:
    """The named types of `roots` and of every field under them, by definition name."""
    found: dict[str, Schema] = {}
    own = {root.type_name: root for root in roots}
    pending = list(own.values())
    while pending:
        node = pending.pop()
        if node.type_name in found:
            continue
        found[node.type_name] = node
        for name in _referenced_names(node):
            target = own.get(name) or definition(name)
            if target is not None and name not in found:
                pending.append(target)
    return found


def _referenced_names(node: Schema) -> Iterable[str]:
    if node.kind == "object":
        for child in node.properties.values():
            yield from _value_names(child)


def _value_names(node: Schema) -> Iterable[str]:
    if node.type_name:
        yield node.type_name
    elif node.kind == "array" and node.items is not None:
        yield from _value_names(node.items)
    elif node.kind == "map" and node.values is not None:
        yield from _value_names(node.values)
    elif node.kind == "object":
        yield from _referenced_names(node)


def _component(node: Schema, gvks: list[dict[str, str]], style: _Style) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if node.description:
        out["description"] = node.description
    out.update(_shape(node, style))
    if gvks:
        out["x-kubernetes-group-version-kind"] = gvks
    return out


def _shape(node: Schema, style: _Style) -> dict[str, Any]:
    """The type-describing keywords of a node, without its description."""
    out: dict[str, Any] = {}
    if node.kind == "object":
        out["type"] = "object"
        properties = {name: _field(child, style) for name, child in sorted(node.properties.items())}
        if properties:
            out["properties"] = properties
        if node.required:
            out["required"] = list(node.required)
        if node.preserve_unknown:
            out["x-kubernetes-preserve-unknown-fields"] = True
    elif node.kind == "array":
        out["type"] = "array"
        out["items"] = _value(node.items, style) if node.items is not None else {}
    elif node.kind == "map":
        out["type"] = "object"
        out["additionalProperties"] = _value(node.values, style) if node.values is not None else {}
    elif node.kind == "int-or-string" and style.v3:
        # kube-apiserver's v3 documents give the alternatives (which `kubectl explain` prints as the type name).
        out.update(format="int-or-string", oneOf=[{"type": "integer"}, {"type": "string"}])
        out["x-kubernetes-int-or-string"] = True
    elif node.kind == "int-or-string":
        out.update({"type": "string", "format": "int-or-string", "x-kubernetes-int-or-string": True})
    elif node.type_name == QUANTITY and style.v3:
        out["oneOf"] = [{"type": "string"}, {"type": "number"}]
    elif node.kind == "any":
        out["type"] = "object"
        if not node.type_name:
            out["x-kubernetes-preserve-unknown-fields"] = True
    else:
        out["type"] = node.kind
        if node.format:
            out["format"] = node.format
    if node.enum:
        out["enum"] = list(node.enum)
    return out


def _value(node: Schema, style: _Style) -> dict[str, Any]:
    """An array item or map value: a reference to its named type, or its shape."""
    return style.ref(node.type_name) if node.type_name else _shape(node, style)


def _field(node: Schema, style: _Style) -> dict[str, Any]:
    """A property: its type, description and the list and map semantics that belong to the field."""
    extra: dict[str, Any] = {}
    if node.description:
        extra["description"] = node.description
    if node.list_type:
        extra["x-kubernetes-list-type"] = node.list_type
    if node.list_map_keys:
        extra["x-kubernetes-list-map-keys"] = list(node.list_map_keys)
    if node.patch_strategy:
        extra["x-kubernetes-patch-strategy"] = node.patch_strategy
    if node.patch_merge_key:
        extra["x-kubernetes-patch-merge-key"] = node.patch_merge_key
    if node.map_type and node.kind == "map":
        extra["x-kubernetes-map-type"] = node.map_type
    if not node.type_name:
        return {**_shape(node, style), **extra}
    ref = style.ref(node.type_name)
    if not extra:
        return ref
    # OpenAPI 3.0 ignores siblings of $ref, so kube-apiserver wraps the reference; Swagger 2.0 readers accept them.
    return {"allOf": [ref], **extra} if style.v3 else {**ref, **extra}


# Paths


def _paths(resources: list[ResourceType], group: str, version: str, style: _Style) -> dict[str, Any]:
    prefix = f"/apis/{group}/{version}" if group else f"/api/{version}"
    group_word = _group_word(group)
    operations = _Operations(style, f"{group_word[:1].lower()}{group_word[1:]}_{version}")
    id_prefix = group_word + version[:1].upper() + version[1:]
    paths: dict[str, Any] = {
        prefix + "/": {
            "get": operations.build(
                f"get{id_prefix}APIResources", "get available resources", {"200": API_RESOURCE_LIST}
            )
        }
    }
    for resource in resources:
        paths.update(_resource_paths(resource, prefix, id_prefix, operations))
    return dict(sorted(paths.items()))


def _group_word(group: str) -> str:
    """`Core`, `Apps`, `RbacAuthorization`, `CanopyDev`: the group as operation IDs spell it."""
    if not group:
        return "Core"
    words = group.removesuffix(".k8s.io").replace("-", ".").split(".")
    return "".join(word[:1].upper() + word[1:] for word in words)


def _resource_paths(
    resource: ResourceType, prefix: str, id_prefix: str, operations: _Operations
) -> dict[str, dict[str, Any]]:
    kind, verbs = resource.kind, set(resource.verbs)
    gvk = _gvk(resource.group, resource.version, kind)
    ref = definition_name(resource.group, resource.version, kind)
    list_ref = resolve_list_schema(resource.group, resource.version, kind).type_name
    # Strategic merge patch needs the patch metadata that only the client's typed kinds have.
    strategic = schema_for(resource.group, resource.version, kind) is not None
    scope = "Namespaced" if resource.namespaced else ""
    namespace = "/namespaces/{namespace}" if resource.namespaced else ""
    in_namespace = ["namespace"] if resource.namespaced else []
    collection = f"{prefix}{namespace}/{resource.plural}"
    item, named = collection + "/{name}", ["name", *in_namespace]
    paths: dict[str, dict[str, Any]] = {}

    def op_id(verb: str, suffix: str = "") -> str:
        return f"{verb}{id_prefix}{scope}{kind}{suffix}"

    on_collection: dict[str, Any] = {}
    if "list" in verbs:
        on_collection["get"] = operations.list(op_id("list"), kind, gvk, list_ref)
    if "create" in verbs:
        on_collection["post"] = operations.build(
            op_id("create"),
            f"create a {kind}",
            {"200": ref, "201": ref, "202": ref},
            gvk=gvk,
            action="post",
            query=_WRITE_PARAMETERS,
            body=ref,
        )
    if "deletecollection" in verbs:
        on_collection["delete"] = operations.build(
            f"delete{id_prefix}Collection{scope}{kind}",
            f"delete collection of {kind}",
            {"200": STATUS},
            gvk=gvk,
            action="deletecollection",
            query=_DELETE_COLLECTION_PARAMETERS,
            body=DELETE_OPTIONS,
        )
    if on_collection:
        paths[collection] = operations.path_item(in_namespace, on_collection)

    on_item: dict[str, Any] = {}
    if "get" in verbs:
        on_item["get"] = operations.read(op_id("read"), f"the specified {kind}", gvk, ref)
    if "update" in verbs:
        on_item["put"] = operations.replace(op_id("replace"), f"the specified {kind}", gvk, ref)
    if "patch" in verbs:
        on_item["patch"] = operations.patch(op_id("patch"), f"the specified {kind}", gvk, ref, strategic)
    if "delete" in verbs:
        on_item["delete"] = operations.build(
            op_id("delete"),
            f"delete a {kind}",
            {"200": STATUS, "202": STATUS},
            gvk=gvk,
            action="delete",
            query=_DELETE_PARAMETERS,
            body=DELETE_OPTIONS,
        )
    if on_item:
        paths[item] = operations.path_item(named, on_item)

    if "status" in resource.subresources:
        what = f"status of the specified {kind}"
        paths[item + "/status"] = operations.path_item(
            named,
            {
                "get": operations.read(op_id("read", "Status"), what, gvk, ref),
                "put": operations.replace(op_id("replace", "Status"), what, gvk, ref),
                "patch": operations.patch(op_id("patch", "Status"), what, gvk, ref, strategic),
            },
        )
    if "scale" in resource.subresources:
        what, scale = f"scale of the specified {kind}", definition_name("autoscaling", "v1", "Scale")
        paths[item + "/scale"] = operations.path_item(
            named,
            {
                "get": operations.read(op_id("read", "Scale"), what, SCALE_GVK, scale),
                "put": operations.replace(op_id("replace", "Scale"), what, SCALE_GVK, scale),
                "patch": operations.patch(op_id("patch", "Scale"), what, SCALE_GVK, scale, True),
            },
        )
    if "log" in resource.subresources:
        paths[item + "/log"] = operations.path_item(
            named,
            {
                "get": operations.build(
                    op_id("read", "Log"),
                    f"read log of the specified {kind}",
                    {"200": ""},
                    gvk=gvk,
                    action="get",
                    query=_LOG_PARAMETERS,
                    produces=("text/plain",),
                )
            },
        )
    if "watch" in verbs:
        watch = f"{prefix}/watch{namespace}/{resource.plural}"
        paths[watch] = operations.path_item(
            in_namespace, {"get": operations.watch(op_id("watch", "List"), kind, gvk, "watchlist")}
        )
        paths[watch + "/{name}"] = operations.path_item(
            named, {"get": operations.watch(op_id("watch"), kind, gvk, "watch")}
        )
    if resource.namespaced and "list" in verbs:
        every = f"list{id_prefix}{kind}ForAllNamespaces"
        paths[f"{prefix}/{resource.plural}"] = operations.path_item(
            [], {"get": operations.list(every, kind, gvk, list_ref)}
        )
    return paths


_REASONS = {"200": "OK", "201": "Created", "202": "Accepted"}


@dataclass(frozen=True)
class _Operations:
    """Builds the operation objects of one group-version's document."""

    style: _Style
    tag: str

    def list(self, operation_id: str, kind: str, gvk: dict[str, str], list_ref: str) -> dict[str, Any]:
        return self.build(
            operation_id,
            f"list or watch objects of kind {kind}",
            {"200": list_ref},
            gvk=gvk,
            action="list",
            query=_LIST_PARAMETERS,
            streams=True,
        )

    def watch(self, operation_id: str, kind: str, gvk: dict[str, str], action: str) -> dict[str, Any]:
        return self.build(
            operation_id,
            f"watch changes to objects of kind {kind}",
            {"200": WATCH_EVENT},
            gvk=gvk,
            action=action,
            query=_LIST_PARAMETERS,
            streams=True,
        )

    def read(self, operation_id: str, what: str, gvk: dict[str, str], ref: str) -> dict[str, Any]:
        return self.build(operation_id, f"read {what}", {"200": ref}, gvk=gvk, action="get")

    def replace(self, operation_id: str, what: str, gvk: dict[str, str], ref: str) -> dict[str, Any]:
        return self.build(
            operation_id,
            f"replace {what}",
            {"200": ref, "201": ref},
            gvk=gvk,
            action="put",
            query=_WRITE_PARAMETERS,
            body=ref,
        )

    def patch(self, operation_id: str, what: str, gvk: dict[str, str], ref: str, strategic: bool) -> dict[str, Any]:
        return self.build(
            operation_id,
            f"partially update {what}",
            {"200": ref, "201": ref},
            gvk=gvk,
            action="patch",
            query=(*_WRITE_PARAMETERS, "force"),
            body=PATCH,
            consumes=(*PATCH_TYPES, STRATEGIC_MERGE_PATCH) if strategic else PATCH_TYPES,
        )

    def path_item(self, path_parameters: list[str], operations: dict[str, Any]) -> dict[str, Any]:
        parameters = [self.parameter(name, "path") for name in path_parameters]
        return {**operations, "parameters": [*parameters, self.parameter("pretty")]}

    def parameter(self, name: str, location: str = "query") -> dict[str, Any]:
        value_type, description = _PARAMETERS[name]
        out: dict[str, Any] = {"description": description, "in": location, "name": name}
        if location == "path":
            out["required"] = True
            schema = {"type": value_type}
        else:
            schema = {"type": value_type, "uniqueItems": True}
        if self.style.v3:
            out["schema"] = schema
        else:
            out.update(schema)
        return out

    def build(
        self,
        operation_id: str,
        description: str,
        responses: dict[str, str],
        *,
        gvk: dict[str, str] | None = None,
        action: str = "",
        query: Iterable[str] = (),
        body: str = "",
        consumes: Iterable[str] = ("*/*",),
        produces: Iterable[str] = (JSON, YAML),
        streams: bool = False,
    ) -> dict[str, Any]:
        """An operation; `responses` maps status codes to definition names ("" for a plain string)."""
        style = self.style
        media_types = [*produces, *WATCH_TYPES] if streams else list(produces)
        parameters = [self.parameter(name) for name in query]
        answers: dict[str, Any] = {}
        for code, ref in responses.items():
            schema = style.ref(ref) if ref else {"type": "string"}
            if style.v3:
                answers[code] = {"content": {media: {"schema": schema} for media in media_types}}
            else:
                answers[code] = {"schema": schema}
            answers[code]["description"] = _REASONS[code]
        answers["401"] = {"description": "Unauthorized"}
        operation: dict[str, Any] = {
            "description": description,
            "operationId": operation_id,
            "parameters": parameters,
            "responses": answers,
            "tags": [self.tag],
        }
        if body and style.v3:
            operation["requestBody"] = {
                "content": {media: {"schema": style.ref(body)} for media in consumes},
                "required": True,
            }
        elif body:
            parameters.insert(0, {"in": "body", "name": "body", "required": True, "schema": style.ref(body)})
        if not style.v3:
            operation.update(consumes=list(consumes), produces=media_types, schemes=["https"])
        if action:
            operation["x-kubernetes-action"] = action
        if gvk is not None:
            operation["x-kubernetes-group-version-kind"] = gvk
        return operation
