"""Strategic merge patch (`application/strategic-merge-patch+json`), as k8s.io/apimachinery applies it.

A strategic merge patch looks like a JSON merge patch, but lists are not always replaced: the type schema says,
field by field, whether a list is a set of primitives to union (`patchStrategy: merge`, e.g. `finalizers`), a list
of objects matched by a merge key (`containers` by `name`, `ports` by `containerPort`) or an atomic value replaced
whole. On top of that, clients embed directives that the merge consumes and that never reach the stored object:

* `$patch: replace` / `$patch: delete` in a map replaces it with the rest of the map / empties it; in a merged
  list, `{"$patch": "replace"}` makes the list exactly the other elements, `{"name": x, "$patch": "delete"}`
  removes the element with that key;
* `$retainKeys: [...]` clears every key of the live map that is not listed (union types such as volume sources
  and deployment strategies, where setting one member must clear the others);
* `$setElementOrder/<list>: [...]` gives the order of the merged list (kubectl apply and kubectl edit always send
  it, since the patch itself carries only the changed elements);
* `$deleteFromPrimitiveList/<list>: [...]` removes values from a merged primitive list.

kubectl computes these patches with the same library kube-apiserver applies them with, so this module follows
that library's behaviour, quirks included: elements new to a merged list go before the live ones unless
`$setElementOrder` places them, and `$patch: delete` on a map leaves an empty map. Fields the schema does not
know (or types declared as arbitrary JSON) merge as in a JSON merge patch. Values copied in from the patch lose
their nulls and any directive, as the typed decoding kube-apiserver does after the merge drops them.
"""

from __future__ import annotations

import copy
from typing import Any

from api.schema import Schema
from controlplane.errors import StatusError, bad_request, unsupported_media_type
from controlplane.patch.failures import go_type, go_value, json_kind, server_error, unprocessable

PATCH_DIRECTIVE = "$patch"
RETAIN_KEYS_DIRECTIVE = "$retainKeys"
SET_ELEMENT_ORDER_PREFIX = "$setElementOrder"
DELETE_FROM_PRIMITIVE_LIST_PREFIX = "$deleteFromPrimitiveList"

# What kube-apiserver accepts for custom resources, which have no strategic merge patch metadata.
CUSTOM_RESOURCE_PATCH_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/apply-patch+yaml",
)

_DROP = object()  # a patch value that is itself a directive and leaves nothing behind


def apply_strategic_merge_patch(obj: dict[str, Any], patch: Any, schema: Schema | None) -> dict[str, Any]:
    """Apply a decoded strategic merge patch body to `obj`, guided by the object's type `schema`.

    `schema` is None for types without strategic merge metadata (custom resources); kube-apiserver refuses the
    content type for them with 415, and so does this function.
    """
    if schema is None:
        raise unsupported_media_type(
            "the body of the request was in an unknown format - accepted media types include: "
            + ", ".join(CUSTOM_RESOURCE_PATCH_TYPES)
        )
    if not isinstance(patch, dict):
        raise bad_request(f"json: cannot unmarshal {json_kind(patch)} into Go value of type map[string]interface {{}}")
    return _merge_map(copy.deepcopy(obj), copy.deepcopy(patch), schema)


def _merge_map(original: dict[str, Any], patch: dict[str, Any], schema: Schema | None) -> dict[str, Any]:
    """Merge `patch` into `original` (both owned by the caller, and modified)."""
    if PATCH_DIRECTIVE in patch:
        return _map_directive(patch)
    _apply_retain_keys(original, patch)
    _apply_element_orders(original, patch, schema)
    for key, value in patch.items():
        field, delete_list = key, False
        if key.startswith(DELETE_FROM_PRIMITIVE_LIST_PREFIX):
            field, delete_list = _directive_target(key, DELETE_FROM_PRIMITIVE_LIST_PREFIX), True
        if value is None:
            original.pop(field, None)
        elif field not in original or _shape(original[field]) != _shape(value):
            if not delete_list:
                _set_literal(original, field, value)
        elif isinstance(value, dict):
            field_schema = _field_schema(schema, field)
            if _strategy(field_schema) == "replace":
                _set_literal(original, field, value)
            else:
                original[field] = _merge_map(original[field], value, field_schema)
        elif isinstance(value, list):
            original[field] = _merge_list_field(original[field], value, _field_schema(schema, field), delete_list)
        else:
            original[field] = value
    return original


def _map_directive(patch: dict[str, Any]) -> dict[str, Any]:
    directive = patch[PATCH_DIRECTIVE]
    if directive == "replace":
        del patch[PATCH_DIRECTIVE]
        return _literal(patch)
    if directive == "delete":
        return {}
    raise server_error(f"unknown patch type: {go_value(directive)} in map: {go_value(patch)}")


def _apply_retain_keys(original: dict[str, Any], patch: dict[str, Any]) -> None:
    if RETAIN_KEYS_DIRECTIVE not in patch:
        return
    retained = patch.pop(RETAIN_KEYS_DIRECTIVE)
    if not isinstance(retained, list):
        raise bad_request("invalid patch format of retainKeys")
    for key, value in patch.items():
        if value is None or key.startswith((SET_ELEMENT_ORDER_PREFIX, DELETE_FROM_PRIMITIVE_LIST_PREFIX)):
            continue
        if key not in retained:
            raise bad_request("invalid patch format of retainKeys")
    for key in [key for key in original if key not in retained]:
        del original[key]


def _apply_element_orders(original: dict[str, Any], patch: dict[str, Any], schema: Schema | None) -> None:
    """Merge each list named by a `$setElementOrder/<list>` directive and put it in the order given.

    The directive and the list it names are removed from `patch`, so the main merge does not see them again.
    """
    for key in [key for key in patch if key.startswith(SET_ELEMENT_ORDER_PREFIX)]:
        order = patch.pop(key)
        if not isinstance(order, list):
            raise server_error(f"expected a []interface {{}}, but received a {go_type(order)}")
        field = _directive_target(key, SET_ELEMENT_ORDER_PREFIX)
        field_schema = _field_schema(schema, field)
        merge_key = field_schema.patch_merge_key if field_schema else ""
        live = original.get(field)
        patch_list = patch.get(field)
        for present, value in ((field in original, live), (field in patch, patch_list)):
            if present and not isinstance(value, list):
                raise server_error(f"expected a []interface {{}}, but received a {go_type(value)}")
        _check_order(patch_list or [], order, merge_key)
        live_order = live or []
        if field in original and field in patch:
            merged = _merge_list_field(live, patch.pop(field), field_schema, False)
            if _strategy(field_schema) == "merge" and merge_key and _element_shape(live, patch_list) == "map":
                live_order = _live_order_seen_by_go(live, patch_list, merge_key)
        elif field in original:
            merged = live
        elif field in patch:
            merged = _literal(patch.pop(field))
        else:
            continue
        ordered, server_only = _partition(merged, order, merge_key)
        original[field] = _normalize_order(ordered, server_only, order, live_order, merge_key)


def _live_order_seen_by_go(live: list[Any], patch: list[Any], merge_key: str) -> list[Any]:
    """The live list as the Go implementation sees it when it orders a merged list by `$setElementOrder`.

    Go removes deleted elements by shifting the live slice in place and appends new ones into the room that
    frees, so the "live order" it then consults is the live list with deleted elements replaced by the elements
    that followed them and, in the freed tail, the new elements. The visible effect, kept here because it is what
    a real cluster stores: when an apply both removes and adds elements, elements only the server has stay
    ahead of the added ones instead of following them.
    """
    slots = list(live)
    current = list(live)
    replaced = False
    for element in patch:
        directive = element.get(PATCH_DIRECTIVE)
        if directive == "replace":
            replaced = True
        elif directive == "delete":
            while (index := _find(current, merge_key, element[merge_key])) >= 0:
                del current[index]
                slots[index : len(current)] = slots[index + 1 : len(current) + 1]
    if replaced:
        return slots
    for element in patch:
        if PATCH_DIRECTIVE in element or _find(current, merge_key, element[merge_key]) >= 0:
            continue
        if len(current) < len(slots):
            slots[len(current)] = element
        current.append(element)
    return slots


def _check_order(patch_list: list[Any], order: list[Any], merge_key: str) -> None:
    """Refuse a patch list whose elements are not listed, in the same relative order, by `$setElementOrder`."""
    if not patch_list or not order:
        return
    items = patch_list
    if merge_key:
        for item in patch_list:
            if not isinstance(item, dict):
                raise server_error(f"expected a map[string]interface {{}}, but received a {go_type(item)}")
        items = [item for item in patch_list if item.get(PATCH_DIRECTIVE) != "delete"]
    position = listed = 0
    while position < len(items) and listed < len(order):
        if _is_directive_element(items[position]):
            position += 1
            continue
        if _same_key(items[position], order[listed], merge_key):
            position += 1
        listed += 1
    if position < len(items):
        raise server_error(
            f"the order in patch list:\n{go_value(patch_list)}\n doesn't match "
            f"{SET_ELEMENT_ORDER_PREFIX} list:\n{go_value(order)}"
        )


def _same_key(left: Any, right: Any, merge_key: str) -> bool:
    if not merge_key:
        return bool(left == right)
    for item in (left, right):
        if not isinstance(item, dict):
            raise server_error(f"expected a map[string]interface {{}}, but received a {go_type(item)}")
        if merge_key not in item:
            raise _no_merge_key(item, merge_key)
    return bool(left[merge_key] == right[merge_key])


def _merge_list_field(live: list[Any], patch: list[Any], schema: Schema | None, delete_list: bool) -> list[Any]:
    """A list field: merged when its strategy says so (or it is a deletion list), replaced otherwise."""
    if _strategy(schema) == "merge" or delete_list:
        merge_key = schema.patch_merge_key if schema else ""
        return _merge_list(live, patch, schema.items if schema else None, merge_key, delete_list)
    return _literal(patch)


def _merge_list(
    live: list[Any], patch: list[Any], items: Schema | None, merge_key: str, delete_list: bool
) -> list[Any]:
    """Merge a list with strategy "merge": primitives as an ordered set, objects element by element by key."""
    if not live and not patch:
        return live
    if _element_shape(live, patch) != "map":
        if delete_list:
            return [value for value in live if value not in patch]
        merged = _unique(live + patch)
        in_patch, server_only = _partition(merged, patch, "")
        return _normalize_order(in_patch, server_only, patch, live, "")
    if not merge_key:
        raise server_error(f"cannot merge lists without merge key for {items.type_name if items else ''}")
    live, patch = _apply_element_directives(live, patch, items, merge_key)
    merged = list(live)
    for element in patch:
        if merge_key not in element:
            raise _no_merge_key(element, merge_key)
        index = _find(merged, merge_key, element[merge_key])
        if index >= 0:
            merged[index] = _merge_map(merged[index], element, items)
        else:
            merged.append(_merge_map({}, element, items))
    in_patch, server_only = _partition(merged, patch, merge_key)
    return _normalize_order(in_patch, server_only, patch, live, merge_key)


def _apply_element_directives(
    live: list[Any], patch: list[Any], items: Schema | None, merge_key: str
) -> tuple[list[Any], list[Any]]:
    """Carry out the `$patch` elements of a merged list; return the live list left and the plain elements."""
    plain: list[Any] = []
    replace = False
    for element in patch:
        if PATCH_DIRECTIVE not in element:
            plain.append(element)
            continue
        directive = element[PATCH_DIRECTIVE]
        if directive == "delete":
            if merge_key not in element:
                raise _no_merge_key(element, merge_key)
            live = [item for item in live if not (merge_key in item and item[merge_key] == element[merge_key])]
        elif directive == "replace":
            replace = True
        elif directive == "merge":
            raise server_error("merging lists cannot yet be specified in the patch")
        else:
            raise server_error(f"unknown patch type: {go_value(directive)} in map: {go_value(element)}")
    if replace:
        return [_merge_map({}, element, items) for element in plain], []
    return live, plain


def _normalize_order(
    in_patch: list[Any], server_only: list[Any], patch_order: list[Any], live_order: list[Any], merge_key: str
) -> list[Any]:
    """Interleave the patched elements (in patch order) with the untouched ones (in live order).

    An untouched element goes before a patched one only when both are in the live list and it came first
    there; so patched elements keep their live positions, and new ones land before the untouched elements
    that follow them.
    """
    left = _sorted_by(server_only, live_order, merge_key)
    right = _sorted_by(in_patch, patch_order, merge_key)
    result: list[Any] = []
    i = j = 0
    while i < len(left) and j < len(right):
        left_at = _index(live_order, left[i], merge_key)
        right_at = _index(live_order, right[j], merge_key)
        if 0 <= left_at < right_at:
            result.append(left[i])
            i += 1
        else:
            result.append(right[j])
            j += 1
    return result + left[i:] + right[j:]


def _sorted_by(items: list[Any], order: list[Any], merge_key: str) -> list[Any]:
    def position(item: Any) -> int:
        index = _index(order, item, merge_key)
        return index if index >= 0 else len(order)

    return sorted(items, key=position)


def _partition(merged: list[Any], by: list[Any], merge_key: str) -> tuple[list[Any], list[Any]]:
    """Split `merged` into the elements present in `by` and the others, keeping their order."""
    inside: list[Any] = []
    outside: list[Any] = []
    for item in merged:
        if merge_key and isinstance(item, dict) and merge_key not in item:
            raise _no_merge_key(item, merge_key)
        (inside if _index(by, item, merge_key) >= 0 else outside).append(item)
    return inside, outside


def _index(items: list[Any], wanted: Any, merge_key: str) -> int:
    key = _key_of(wanted, merge_key)
    for index, item in enumerate(items):
        if _key_of(item, merge_key) == key:
            return index
    return -1


def _key_of(item: Any, merge_key: str) -> Any:
    if merge_key and isinstance(item, dict):
        return item.get(merge_key)
    return item


def _find(items: list[dict[str, Any]], merge_key: str, value: Any) -> int:
    for index, item in enumerate(items):
        if merge_key in item and item[merge_key] == value:
            return index
    return -1


def _is_directive_element(item: Any) -> bool:
    return isinstance(item, dict) and PATCH_DIRECTIVE in item


def _unique(values: list[Any]) -> list[Any]:
    unique: list[Any] = []
    for value in values:
        if value not in unique:
            unique.append(value)
    return unique


def _element_shape(*lists: list[Any]) -> str:
    """The one shape shared by every element of `lists` ("" if there are none); lists of lists and mixed lists
    are refused."""
    shapes = {_shape(item) for values in lists for item in values}
    if "list" in shapes:
        raise unprocessable("lists of lists are not supported")
    if len(shapes) > 1:
        raise server_error(f"list element types are not identical: {go_value(list(lists))}")
    return shapes.pop() if shapes else ""


def _shape(value: Any) -> str:
    if isinstance(value, dict):
        return "map"
    if isinstance(value, list):
        return "list"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "string"
    return "number"


def _field_schema(schema: Schema | None, field: str) -> Schema | None:
    if schema is None:
        return None
    if schema.kind == "object":
        return schema.child(field)
    if schema.kind == "map":
        return schema.values
    return None


def _strategy(schema: Schema | None) -> str:
    """The merge strategy of a field: "merge", "replace" or "" (retainKeys only matters to patch authors)."""
    if schema is None:
        return ""
    strategies = [part for part in schema.patch_strategy.split(",") if part and part != "retainKeys"]
    return strategies[0] if strategies else ""


def _directive_target(key: str, prefix: str) -> str:
    """The field a `<prefix>/<field>` directive key applies to."""
    head, slash, field = key.partition("/")
    if head != prefix or not slash:
        if prefix == SET_ELEMENT_ORDER_PREFIX:
            raise bad_request("invalid patch format of setElementOrder list")
        raise bad_request("invalid patch format of primitive list")
    return field


def _no_merge_key(element: Any, merge_key: str) -> StatusError:
    return server_error(f"map: {go_value(element)} does not contain declared merge key: {merge_key}")


def _set_literal(target: dict[str, Any], field: str, value: Any) -> None:
    literal = _literal(value)
    if literal is _DROP:
        target.pop(field, None)
    else:
        target[field] = literal


def _literal(value: Any) -> Any:
    """A patch value taken as it is: without its nulls and directives, or `_DROP` if it is a directive itself."""
    if isinstance(value, dict):
        if PATCH_DIRECTIVE in value:
            return _DROP
        literal: dict[str, Any] = {}
        for key, item in value.items():
            if item is None or _is_directive_key(key):
                continue
            kept = _literal(item)
            if kept is not _DROP:
                literal[key] = kept
        return literal
    if isinstance(value, list):
        return [kept for kept in (_literal(item) for item in value) if kept is not _DROP]
    return value


def _is_directive_key(key: str) -> bool:
    return key == RETAIN_KEYS_DIRECTIVE or key.startswith(
        (SET_ELEMENT_ORDER_PREFIX + "/", DELETE_FROM_PRIMITIVE_LIST_PREFIX + "/")
    )
