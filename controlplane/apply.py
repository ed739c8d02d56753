"""Server-side apply and field ownership (`metadata.managedFields`), as structured-merge-diff keeps them.

Every write records which manager set which fields. A manager that applies (`PATCH` with
`application/apply-patch+yaml`) declares the complete set of fields it cares about: its configuration is merged
into the live object, it becomes the owner of exactly the fields it sent, fields it sent last time but not now
are removed unless another manager still owns them, and changing a field another manager owns to a different
value is refused with 409 Conflict unless the apply is forced (which moves the ownership). Any other write
(create, update, patch) is an "Update": its manager takes over the fields it changed, from whoever had them.

Ownership is a set of paths into the object. A path is a tuple of the elements FieldsV1 is written with, so
encoding to and from the stored form is a tree walk: `f:<field>` for a struct field or map key,
`k:{"name":"nginx"}` for the element of an associative list, `v:"x"` for the member of a set. Which lists are
associative, sets or atomic, and which maps are atomic, comes from the type schema; fields the schema does not
know are treated as structure-merge-diff treats a schema-less object (maps are merged, lists are atomic).

What is not tracked, as in kube-apiserver: apiVersion, kind and the identity and bookkeeping fields of metadata
(name, namespace, uid, resourceVersion, ...), and the fields the caller says the endpoint resets (the status of
the main resource, by default).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from api.schema import Schema
from controlplane.errors import StatusError

Path = tuple[str, ...]

APPLY = "Apply"
UPDATE = "Update"
FIELDS_V1 = "FieldsV1"

_UNTRACKED: frozenset[Path] = frozenset(
    {
        ("f:apiVersion",),
        ("f:kind",),
        ("f:metadata",),
        *(
            ("f:metadata", f"f:{name}")
            for name in (
                "name",
                "namespace",
                "creationTimestamp",
                "selfLink",
                "uid",
                "clusterName",
                "generation",
                "managedFields",
                "resourceVersion",
            )
        ),
    }
)

_BRANCH = object()  # the recorded value of a path that is owned as a whole but whose children are tracked too


@dataclass(eq=False)
class _Entry:
    """One `metadata.managedFields` entry, with its FieldsV1 decoded into a set of paths."""

    manager: str
    operation: str
    api_version: str
    time: str | None
    paths: set[Path]
    subresource: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def identity(self) -> tuple[str, str, str, str]:
        # An applier is one manager whatever apiVersion it applies with; an updater is one per apiVersion.
        version = self.api_version if self.operation == UPDATE else ""
        return (self.manager, self.operation, self.subresource, version)

    def describe(self) -> str:
        """The manager as kube-apiserver names it in conflict messages."""
        name = json.dumps(self.manager)
        if self.subresource:
            name += f" with subresource {json.dumps(self.subresource)}"
        return f"{name} using {self.api_version}" if self.operation == UPDATE else name


def server_side_apply(
    live: dict[str, Any] | None,
    applied: dict[str, Any],
    manager: str,
    force: bool,
    schema: Schema,
    now: str,
    *,
    reset_fields: Iterable[str] = ("status",),
    subresource: str = "",
) -> dict[str, Any]:
    """Apply `manager`'s configuration to `live` (None when the object does not exist yet).

    Returns the new object with its `metadata.managedFields`. Raises a 409 StatusError listing the conflicts
    when the configuration changes fields other managers own and `force` is false. `reset_fields` are the
    top-level fields the endpoint ignores in what it is sent (`status` for a main resource, `spec` and
    `metadata` for a status subresource); they are neither merged nor owned.
    """
    ignored = frozenset(reset_fields)
    config = copy.deepcopy({key: value for key, value in applied.items() if key not in ignored})
    _metadata(config).pop("managedFields", None)
    current = _without_managed_fields(live or {})
    entries = _decode(live or {})
    api_version = str(applied.get("apiVersion") or current.get("apiVersion") or "")

    owner = _Entry(manager, APPLY, api_version, None, set(), subresource)
    previous = next((entry for entry in entries if entry.identity == owner.identity), None)
    others = [entry for entry in entries if entry is not previous]
    owner.paths = set(_tracked(_flatten(config, schema), ignored))

    merged = _merge(current, config, schema)
    if previous is not None:
        owned = set().union(owner.paths, *(entry.paths for entry in others))
        merged = _prune(merged, previous.paths, owned, schema)

    changed, removed = _compare(current, merged, schema, ignored)
    conflicts = [(entry, path) for entry in others for path in sorted(entry.paths & changed)]
    if conflicts and not force:
        raise _conflict_error(conflicts)
    for entry in others:
        entry.paths -= changed | removed

    # Like kube-apiserver, only an apply that changes the object moves its manager's timestamp.
    owner.time = now if previous is None or merged != current else previous.time
    if previous is not None:
        owner.extra = previous.extra
    _set_managed_fields(merged, [*others, owner])
    return merged


def track_update(
    old: dict[str, Any] | None,
    new: dict[str, Any],
    manager: str,
    operation: str = UPDATE,
    *,
    schema: Schema,
    now: str,
    api_version: str | None = None,
    subresource: str = "",
    reset_fields: Iterable[str] = ("status",),
) -> dict[str, Any]:
    """Record a non-apply write (create, update, JSON/merge/strategic patch) of `new` over `old` by `manager`.

    The manager takes ownership of every field the write added or changed, from whichever manager had it;
    fields the write removed are dropped from every manager. The managed fields sent with `new` are kept when
    there are any (clients may rewrite them), those of `old` otherwise, as kube-apiserver does.
    """
    ignored = frozenset(reset_fields)
    before = _without_managed_fields(old or {})
    after = _without_managed_fields(new)
    source = new if _metadata(new).get("managedFields") and not subresource else (old or {})
    entries = _decode(source)
    version = api_version if api_version is not None else str(new.get("apiVersion") or "")

    changed, removed = _compare(before, after, schema, ignored)
    for entry in entries:
        entry.paths -= changed | removed
    if changed:
        writer = _Entry(manager, operation, version, now, set(changed), subresource)
        existing = next((entry for entry in entries if entry.identity == writer.identity), None)
        if existing is None:
            entries.append(writer)
        else:
            existing.paths |= changed
            existing.time = now
    _set_managed_fields(after, entries)
    return after


def to_fields_v1(paths: Iterable[Path]) -> dict[str, Any]:
    """Encode a set of paths as a FieldsV1 tree: `{"f:spec": {"f:replicas": {}}}`.

    A path that is owned itself and also has owned children carries a `".": {}` entry.
    """
    root: dict[str, Any] = {}
    members: set[int] = set()
    for path in paths:
        node = root
        for element in path:
            node = node.setdefault(element, {})
        members.add(id(node))
    return _render(root, members)


def from_fields_v1(tree: dict[str, Any]) -> set[Path]:
    """Decode a FieldsV1 tree into the set of paths it lists."""
    paths: set[Path] = set()

    def walk(node: dict[str, Any], path: Path) -> None:
        for element, child in node.items():
            if element == ".":
                paths.add(path)
            elif isinstance(child, dict) and child:
                walk(child, (*path, element))
            else:
                paths.add((*path, element))

    walk(tree, ())
    return paths


def path_string(path: Path) -> str:
    """A path as kube-apiserver prints it: `.spec.template.spec.containers[name="nginx"].image`."""
    parts = []
    for element in path:
        kind, _, body = element.partition(":")
        if kind == "f":
            parts.append("." + body)
        elif kind == "k":
            keys = json.loads(body)
            parts.append("[" + ",".join(f"{name}={json.dumps(keys[name])}" for name in sorted(keys)) + "]")
        elif kind == "v":
            parts.append(f"[={body}]")
        else:
            parts.append(f"[{body}]")
    return "".join(parts)


# Shape of a value under its schema


def _shape(schema: Schema | None, value: Any) -> str:
    """How a value is merged and tracked: "map" (per key), "list-map" (per key fields), "set" or "leaf"."""
    if isinstance(value, dict):
        if schema is None or schema.kind == "any" or (schema.kind in ("object", "map") and schema.map_type != "atomic"):
            return "map"
        return "leaf"
    if isinstance(value, list) and schema is not None and schema.kind == "array":
        return "list-map" if _list_keys(schema) else "set" if _is_set(schema) else "leaf"
    return "leaf"


def _list_keys(schema: Schema) -> tuple[str, ...]:
    if schema.list_type == "map":
        return schema.list_map_keys
    if not schema.list_type and "merge" in schema.patch_strategy.split(",") and schema.patch_merge_key:
        return (schema.patch_merge_key,)
    return ()


def _is_set(schema: Schema) -> bool:
    if schema.list_type == "set":
        return True
    return not schema.list_type and "merge" in schema.patch_strategy.split(",") and not schema.patch_merge_key


def _child(schema: Schema | None, key: str) -> Schema | None:
    if schema is None:
        return None
    if schema.kind == "object":
        return schema.child(key)
    if schema.kind == "map":
        return schema.values
    return None


def _declared(schema: Schema | None, key: str) -> bool:
    return schema is not None and schema.kind == "object" and key in schema.properties


def _list_identity(schema: Schema | None) -> tuple[Callable[[Any], str], Schema | None]:
    """How the elements of a keyed list or set are told apart (their path element), and their schema."""
    keys = _list_keys(schema) if schema is not None else ()
    items = schema.items if schema is not None else None
    if keys:
        defaults = dict(schema.list_map_key_defaults) if schema is not None else {}
        return (lambda item: _key_element(item, keys, defaults)), items
    return _value_element, items


def _key_element(item: Any, keys: tuple[str, ...], defaults: dict[str, str]) -> str:
    if not isinstance(item, dict):
        return "v:" + _compact(item)
    filled = {**defaults, **item}
    return "k:" + _compact({name: filled[name] for name in sorted(keys) if name in filled})


def _value_element(item: Any) -> str:
    return "v:" + _compact(item)


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


# Field sets and comparison


def _flatten(value: Any, schema: Schema | None) -> dict[Path, Any]:
    """Every path a value sets, with the leaf value there (or `_BRANCH` for an owned path with children)."""
    out: dict[Path, Any] = {}
    _walk(value, schema, (), out)
    return out


def _walk(value: Any, schema: Schema | None, path: Path, out: dict[Path, Any]) -> None:
    shape = _shape(schema, value)
    if shape == "map":
        for key, child in value.items():
            child_schema = _child(schema, key)
            child_path = (*path, f"f:{key}")
            if _shape(child_schema, child) == "leaf":
                out[child_path] = child
                continue
            _walk(child, child_schema, child_path, out)
            if child == {} or not _declared(schema, key):
                out[child_path] = _BRANCH
    elif shape in ("list-map", "set"):
        identify, items = _list_identity(schema)
        for item in value:
            item_path = (*path, identify(item))
            _walk(item, items, item_path, out)
            out[item_path] = _BRANCH


def _tracked(flat: dict[Path, Any], ignored: frozenset[str]) -> dict[Path, Any]:
    return {
        path: value
        for path, value in flat.items()
        if path not in _UNTRACKED
        and path[:2] != ("f:metadata", "f:managedFields")
        and path[0].removeprefix("f:") not in ignored
    }


def _compare(
    old: dict[str, Any], new: dict[str, Any], schema: Schema, ignored: frozenset[str]
) -> tuple[set[Path], set[Path]]:
    """The paths `new` adds or changes relative to `old`, and the paths it no longer has."""
    before = _tracked(_flatten(old, schema), ignored)
    after = _tracked(_flatten(new, schema), ignored)
    changed = {path for path, value in after.items() if path not in before or not _same(before[path], value)}
    return changed, before.keys() - after.keys()


def _same(left: Any, right: Any) -> bool:
    if left is _BRANCH or right is _BRANCH:
        return left is right
    return type(left) is type(right) and bool(left == right)


# Merging an applied configuration


def _merge(live: Any, config: Any, schema: Schema | None) -> Any:
    shape = _shape(schema, config)
    if shape == "map":
        result = copy.deepcopy(live) if isinstance(live, dict) else {}
        for key, value in config.items():
            if value is None:
                result.pop(key, None)
            else:
                result[key] = _merge(result.get(key), value, _child(schema, key))
        return result
    if shape in ("list-map", "set") and isinstance(live, list):
        identify, items = _list_identity(schema)
        return _merge_items(live, config, identify, lambda old, new: _merge(old, new, items))
    return copy.deepcopy(config)


def _merge_items(
    live: list[Any], config: list[Any], identify: Callable[[Any], str], merge: Callable[[Any, Any], Any]
) -> list[Any]:
    """Merge two keyed lists: matched elements merge, live-only ones stay where they are, and the elements of the
    configuration come in the configuration's order."""
    live_keys = [identify(item) for item in live]
    config_keys = [identify(item) for item in config]
    live_items: dict[str, Any] = {}
    for key, item in zip(live_keys, live, strict=True):
        live_items.setdefault(key, item)
    config_items = dict(zip(config_keys, config, strict=True))
    shared = iter([key for key in config_keys if key in live_items])
    next_shared = next(shared, None)
    out: list[Any] = []
    emitted: set[str] = set()
    i = j = 0
    while i < len(live_keys) or j < len(config_keys):
        if i < len(live_keys) and j < len(config_keys):
            if live_keys[i] == config_keys[j]:
                key = config_keys[j]
                out.append(merge(live_items[key], config_items[key]))
                emitted.add(key)
                i, j = i + 1, j + 1
                next_shared = next(shared, None)
                continue
            if live_keys[i] in config_items and next_shared is not None and next_shared != live_keys[i]:
                i += 1
                continue
        if i < len(live_keys):
            if live_keys[i] not in config_items:
                out.append(copy.deepcopy(live[i]))
                i += 1
                continue
            if live_keys[i] in emitted:
                i += 1
                continue
        if j < len(config_keys):
            key = config_keys[j]
            out.append(merge(live_items.get(key), config_items[key]))
            emitted.add(key)
            j += 1
            if key == next_shared:
                next_shared = next(shared, None)
    return out


def _prune(merged: dict[str, Any], last: set[Path], owned: set[Path], schema: Schema) -> dict[str, Any]:
    """Remove what the applier owned last time and no manager owns now.

    Kept are the paths owned fields sit under and the key fields of the list elements kept; removing an element
    or a map removes what it holds, and a list or map that removal leaves empty goes too unless it is owned.
    """
    under_owned = {path[:depth] for path in owned for depth in range(1, len(path))}
    for path in sorted(last - owned):
        if path not in under_owned and not _is_key_field(path):
            _remove(merged, (), path, schema, owned)
    return merged


def _is_key_field(path: Path) -> bool:
    if len(path) < 2 or not path[-2].startswith("k:") or not path[-1].startswith("f:"):
        return False
    return path[-1][2:] in json.loads(path[-2][2:])


def _remove(value: Any, at: Path, path: Path, schema: Schema | None, owned: set[Path]) -> bool:
    """Remove `path` (relative to `value`, which is at `at`); report whether that left `value` empty and unowned."""
    element, rest = path[0], path[1:]
    if isinstance(value, dict) and element.startswith("f:"):
        key = element[2:]
        if key in value and (not rest or _remove(value[key], (*at, element), rest, _child(schema, key), owned)):
            del value[key]
            return not value and at not in owned
    elif isinstance(value, list) and _shape(schema, value) in ("list-map", "set"):
        identify, items = _list_identity(schema)
        index = next((index for index, item in enumerate(value) if identify(item) == element), -1)
        if index >= 0 and (not rest or _remove(value[index], (*at, element), rest, items, owned)):
            del value[index]
            return not value and at not in owned
    return False


# Managed fields in the object


def _metadata(obj: dict[str, Any]) -> dict[str, Any]:
    metadata = obj.get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def _without_managed_fields(obj: dict[str, Any]) -> dict[str, Any]:
    copied = copy.deepcopy(obj)
    _metadata(copied).pop("managedFields", None)
    return copied


def _decode(obj: dict[str, Any]) -> list[_Entry]:
    entries = []
    for raw in _metadata(obj).get("managedFields") or []:
        known = {"manager", "operation", "apiVersion", "time", "fieldsType", "fieldsV1", "subresource"}
        entries.append(
            _Entry(
                manager=str(raw.get("manager", "")),
                operation=str(raw.get("operation", "")),
                api_version=str(raw.get("apiVersion", "")),
                time=raw.get("time"),
                paths=from_fields_v1(raw.get("fieldsV1") or {}),
                subresource=str(raw.get("subresource", "")),
                extra={key: value for key, value in raw.items() if key not in known},
            )
        )
    return entries


def _set_managed_fields(obj: dict[str, Any], entries: list[_Entry]) -> None:
    kept = sorted(
        (entry for entry in entries if entry.paths),
        key=lambda entry: (
            entry.operation,
            entry.time or "",
            entry.manager,
            entry.api_version,
            entry.subresource,
        ),
    )
    metadata = obj.setdefault("metadata", {})
    if not kept:
        metadata.pop("managedFields", None)
        return
    encoded = []
    for entry in kept:
        raw: dict[str, Any] = {"manager": entry.manager, "operation": entry.operation}
        if entry.api_version:
            raw["apiVersion"] = entry.api_version
        if entry.time:
            raw["time"] = entry.time
        raw["fieldsType"] = FIELDS_V1
        raw["fieldsV1"] = to_fields_v1(entry.paths)
        if entry.subresource:
            raw["subresource"] = entry.subresource
        encoded.append(raw | entry.extra)
    metadata["managedFields"] = encoded


def _render(node: dict[str, Any], members: set[int]) -> dict[str, Any]:
    rendered: dict[str, Any] = {}
    if node and id(node) in members:
        rendered["."] = {}
    for element in sorted(node, key=_element_order):
        rendered[element] = _render(node[element], members)
    return rendered


def _element_order(element: str) -> tuple[int, str]:
    return ("fkvi".find(element[:1]), element)


def _conflict_error(conflicts: list[tuple[_Entry, Path]]) -> StatusError:
    """409 worded as kube-apiserver words apply conflicts, one cause per conflicting field."""
    conflicts = sorted(conflicts, key=lambda conflict: (conflict[0].identity, conflict[1]))
    causes = [
        {
            "reason": "FieldManagerConflict",
            "message": f"conflict with {entry.describe()}",
            "field": path_string(path),
        }
        for entry, path in conflicts
    ]
    if len(conflicts) == 1:
        entry, path = conflicts[0]
        message = f"Apply failed with 1 conflict: conflict with {entry.describe()}: {path_string(path)}"
    else:
        lines: list[str] = []
        for entry in dict.fromkeys(entry for entry, _ in conflicts):
            lines.append(f"conflicts with {entry.describe()}:")
            lines.extend(f"- {path_string(path)}" for other, path in conflicts if other is entry)
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return StatusError(409, "Conflict", message, {"causes": causes})
