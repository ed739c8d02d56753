"""Reading decoded JSON defensively, and comparing it the way `apiequality.Semantic.DeepEqual` does.

Strategies run on whatever the client sent. Type errors (a string where a number belongs) are the decoder's to
report, so here a field of the wrong shape is treated as absent instead of crashing validation. Comparison
follows Go's typed view of the object: an absent field, `null`, `""`, `{}` and `[]` are all the zero value, so
a client that omits an empty list has not changed the spec and does not bump `metadata.generation`.
"""

from __future__ import annotations

from typing import Any


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def as_int(value: Any) -> int | None:
    """An integer field's value; None when absent or not an integer."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def dicts(value: Any) -> list[dict[str, Any]]:
    """The list items of a list-of-objects field, each coerced to a dict."""
    return [as_dict(item) for item in as_list(value)]


def child_dict(parent: dict[str, Any], name: str) -> dict[str, Any]:
    """`parent[name]` as a dict, created (or replaced, if it was not a dict) so defaulting can write into it."""
    value = parent.get(name)
    if not isinstance(value, dict):
        value = {}
        parent[name] = value
    return value


def _is_zero(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, dict | list) and not value)


def normalized(value: Any) -> Any:
    """The value with every zero-valued map entry removed, recursively; the basis of `semantic_equal`."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            n = normalized(v)
            if not _is_zero(n):
                out[k] = n
        return out
    if isinstance(value, list):
        return [normalized(v) for v in value]
    return value


def semantic_equal(a: Any, b: Any) -> bool:
    return normalized(a) == normalized(b)
