"""Field errors worded exactly as kube-apiserver words them.

kubectl prints the server's `details.causes` and the aggregated message verbatim, and scripts grep them, so each
cause must carry the same field path (`spec.template.spec.containers[0].image`), the same reason
(`FieldValueInvalid`, ...) and the same message body as `k8s.io/apimachinery/pkg/util/validation/field` produces.
The body embeds the offending value as Go's `fmt` prints it: strings quoted the `strconv.Quote` way, numbers
bare, and Go structs (label selectors, int-or-string values) as `%#v` struct literals. Objects reach us as
decoded JSON, so the struct renderings are built by the helpers below from the dicts that stand for them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from controlplane.errors import Cause

REQUIRED = "FieldValueRequired"
INVALID = "FieldValueInvalid"
NOT_SUPPORTED = "FieldValueNotSupported"
DUPLICATE = "FieldValueDuplicate"
FORBIDDEN = "FieldValueForbidden"
NOT_FOUND = "FieldValueNotFound"
TOO_LONG = "FieldValueTooLong"


class GoLiteral(str):
    """A value already rendered the way Go's `%#v` would print it; embedded in messages unquoted."""


# ---- paths ---------------------------------------------------------------------------------------------------


def child(path: str, *names: str) -> str:
    """`field.Path.Child`: dotted segments, no leading dot at the root."""
    for name in names:
        path = f"{path}.{name}" if path else name
    return path


def index(path: str, i: int) -> str:
    return f"{path}[{i}]"


def key(path: str, k: str) -> str:
    """`field.Path.Key`: map keys are bracketed, unquoted."""
    return f"{path}[{k}]"


# ---- Go value rendering --------------------------------------------------------------------------------------

_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}


def go_quote(s: str) -> str:
    """`strconv.Quote`: double-quoted, printable runes kept, everything else escaped."""
    out = ['"']
    for ch in s:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ch == " " or (ch.isprintable() and not ch.isspace()):
            out.append(ch)
        elif ord(ch) < 0x80:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def go_float(f: float) -> str:
    """`%v` of a float64: shortest digits, exponent form only below 1e-4 or from 1e21 up."""
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "+Inf" if f > 0 else "-Inf"
    text = repr(f)  # Python's repr is also the shortest round-tripping digit string
    mantissa, _, exp = text.partition("e")
    exponent = int(exp) if exp else 0
    if exp and -4 <= exponent < 21:
        # Python switches to exponent form at 1e16, Go's %v only at 1e21.
        return format(Decimal(text), "f")
    if exp:
        return f"{mantissa}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    return text[:-2] if text.endswith(".0") else text


def go_value(value: Any) -> str:
    """How `field.Error.ErrorBody` prints a bad value."""
    if isinstance(value, GoLiteral):
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, Mapping):
        return go_string_map(value)
    if isinstance(value, list | tuple):
        return go_string_slice(value)
    return go_quote(str(value))


def go_string_map(m: Mapping[str, Any] | None) -> GoLiteral:
    """`%#v` of a `map[string]string`; Go's fmt sorts map keys."""
    if m is None:
        return GoLiteral("map[string]string(nil)")
    body = ", ".join(f"{go_quote(str(k))}:{go_value(v)}" for k, v in sorted(m.items()))
    return GoLiteral(f"map[string]string{{{body}}}")


def go_string_slice(xs: Iterable[Any] | None, type_name: str = "string") -> GoLiteral:
    """`%#v` of a `[]string` (or a slice of a named string type such as `core.IPFamily`)."""
    if xs is None:
        return GoLiteral(f"[]{type_name}(nil)")
    return GoLiteral(f"[]{type_name}{{" + ", ".join(go_value(x) for x in xs) + "}")


def go_int_or_string(v: Any) -> GoLiteral:
    """`%#v` of an `intstr.IntOrString`."""
    if isinstance(v, str):
        return GoLiteral(f"intstr.IntOrString{{Type:1, IntVal:0, StrVal:{go_quote(v)}}}")
    n = v if isinstance(v, int) and not isinstance(v, bool) else 0
    return GoLiteral(f'intstr.IntOrString{{Type:0, IntVal:{n}, StrVal:""}}')


def go_label_selector(sel: Mapping[str, Any] | None) -> GoLiteral:
    """`%#v` of a `metav1.LabelSelector` (what the immutable-selector error shows)."""
    if sel is None:
        return GoLiteral("(*v1.LabelSelector)(nil)")
    labels = sel.get("matchLabels")
    exprs = sel.get("matchExpressions")
    labels_text = go_string_map(labels if isinstance(labels, Mapping) and labels else None)
    if isinstance(exprs, list) and exprs:
        items = []
        for e in exprs:
            e = e if isinstance(e, Mapping) else {}
            values = e.get("values")
            items.append(
                "v1.LabelSelectorRequirement{"
                f"Key:{go_quote(str(e.get('key', '')))}, Operator:{go_quote(str(e.get('operator', '')))}, "
                f"Values:{go_string_slice(values if isinstance(values, list) and values else None)}}}"
            )
        exprs_text = "[]v1.LabelSelectorRequirement{" + ", ".join(items) + "}"
    else:
        exprs_text = "[]v1.LabelSelectorRequirement(nil)"
    return GoLiteral(f"v1.LabelSelector{{MatchLabels:{labels_text}, MatchExpressions:{exprs_text}}}")


# ---- the error constructors ----------------------------------------------------------------------------------


def _with_detail(body: str, detail: str) -> str:
    return f"{body}: {detail}" if detail else body


def required(path: str, detail: str = "") -> Cause:
    return Cause(path, _with_detail("Required value", detail), REQUIRED)


def invalid(path: str, value: Any, detail: str) -> Cause:
    return Cause(path, _with_detail(f"Invalid value: {go_value(value)}", detail), INVALID)


def not_supported(path: str, value: Any, supported: Iterable[str]) -> Cause:
    quoted = ", ".join(go_quote(s) for s in supported)
    detail = f"supported values: {quoted}" if quoted else ""
    return Cause(path, _with_detail(f"Unsupported value: {go_value(value)}", detail), NOT_SUPPORTED)


def duplicate(path: str, value: Any) -> Cause:
    return Cause(path, f"Duplicate value: {go_value(value)}", DUPLICATE)


def forbidden(path: str, detail: str) -> Cause:
    return Cause(path, _with_detail("Forbidden", detail), FORBIDDEN)


def not_found(path: str, value: Any, detail: str = "") -> Cause:
    return Cause(path, _with_detail(f"Not found: {go_value(value)}", detail), NOT_FOUND)


def too_long(path: str, max_bytes: int) -> Cause:
    """`field.TooLong`: the value itself is never echoed."""
    return Cause(path, f"Too long: must have at most {max_bytes} bytes", TOO_LONG)
