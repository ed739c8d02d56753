"""ObjectMeta, labels, annotations and label selectors: the validation every resource shares.

This is `ValidateObjectMetaAccessor` / `ValidateObjectMetaUpdate` from `k8s.io/apimachinery/pkg/api/validation`
plus the extra finalizer rule the built-in (core and apps) types add, and the `metav1.LabelSelector` checks and
matching that controllers' selectors need. Each resource supplies its own name rule (DNS subdomain for most
kinds, DNS label for namespaces, DNS-1035 label for services). Label maps are checked in sorted key order so the
error text is deterministic (Go's map order is random).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from controlplane.errors import Cause
from controlplane.registry import field as f
from controlplane.registry.formats import (
    NameValidator,
    is_qualified_name,
    is_valid_label_value,
    name_is_dns_label,
)
from controlplane.registry.values import as_dict, as_int, as_list, as_str, semantic_equal

TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024
STANDARD_FINALIZERS = frozenset({"kubernetes", "orphan", "foregroundDeletion"})
FIELD_IMMUTABLE = "field is immutable"
IS_NEGATIVE = "must be greater than or equal to 0"


def validate_nonnegative(value: Any, path: str) -> list[Cause]:
    n = as_int(value)
    return [f.invalid(path, n, IS_NEGATIVE)] if n is not None and n < 0 else []


def validate_labels(labels: Any, path: str) -> list[Cause]:
    causes: list[Cause] = []
    for k, v in sorted(as_dict(labels).items()):
        causes.extend(validate_label_name(k, path))
        value = as_str(v)
        causes.extend(f.invalid(path, value, msg) for msg in is_valid_label_value(value))
    return causes


def validate_label_name(name: str, path: str) -> list[Cause]:
    return [f.invalid(path, name, msg) for msg in is_qualified_name(name)]


def validate_annotations(annotations: Any, path: str) -> list[Cause]:
    causes: list[Cause] = []
    total = 0
    for k, v in sorted(as_dict(annotations).items()):
        # Annotation keys follow the qualified-name rule, but case-insensitively.
        causes.extend(f.invalid(path, k, msg) for msg in is_qualified_name(k.lower()))
        total += len(k.encode()) + len(as_str(v).encode())
    if total > TOTAL_ANNOTATION_SIZE_LIMIT:
        causes.append(f.too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT))
    return causes


def _validate_owner_references(refs: Any, path: str) -> list[Cause]:
    causes: list[Cause] = []
    first_controller = ""
    for ref in as_list(refs):
        ref = as_dict(ref)
        api_version = as_str(ref.get("apiVersion"))
        version = api_version.rsplit("/", 1)[-1] if api_version.count("/") <= 1 else ""
        if not version:
            causes.append(f.invalid(f.child(path, "apiVersion"), api_version, "version must not be empty"))
        for name in ("kind", "name", "uid"):
            if not as_str(ref.get(name)):
                causes.append(f.invalid(f.child(path, name), as_str(ref.get(name)), "must not be empty"))
        if ref.get("controller") is True:
            current = f"{as_str(ref.get('kind'))}/{as_str(ref.get('name'))}"
            if first_controller:
                causes.append(
                    f.invalid(
                        path,
                        f.GoLiteral("[]v1.OwnerReference{...}"),
                        'Only one reference can have Controller set to true. Found "true" in references for '
                        f"{first_controller} and {current}",
                    )
                )
            else:
                first_controller = current
    return causes


def _validate_finalizers(finalizers: Any, path: str, kube_rules: bool) -> list[Cause]:
    names = [as_str(x) for x in as_list(finalizers)]
    causes: list[Cause] = []
    for name in names:
        causes.extend(f.invalid(path, name, msg) for msg in is_qualified_name(name))
    if "orphan" in names and "foregroundDeletion" in names:
        causes.append(
            f.invalid(path, f.go_string_slice(names), "finalizer orphan and foregroundDeletion cannot be both set")
        )
    if kube_rules:
        for i, name in enumerate(names):
            if "/" not in name and name not in STANDARD_FINALIZERS:
                causes.append(
                    f.invalid(
                        f.index(path, i), name, "name is neither a standard finalizer name nor is it fully qualified"
                    )
                )
    return causes


def validate_object_meta(
    meta: Any,
    *,
    namespaced: bool | None,
    name_validator: NameValidator,
    kube_finalizers: bool = True,
    path: str = "metadata",
) -> list[Cause]:
    """Create-time metadata checks. `namespaced=None` skips the namespace presence rule (unknown scope)."""
    meta = as_dict(meta)
    causes: list[Cause] = []
    generate_name = as_str(meta.get("generateName"))
    if generate_name:
        causes.extend(
            f.invalid(f.child(path, "generateName"), generate_name, msg) for msg in name_validator(generate_name, True)
        )
    name = as_str(meta.get("name"))
    if not name:
        causes.append(f.required(f.child(path, "name"), "name or generateName is required"))
    else:
        causes.extend(f.invalid(f.child(path, "name"), name, msg) for msg in name_validator(name, False))
    namespace = as_str(meta.get("namespace"))
    if namespaced is True:
        if not namespace:
            causes.append(f.required(f.child(path, "namespace")))
        else:
            causes.extend(
                f.invalid(f.child(path, "namespace"), namespace, m) for m in name_is_dns_label(namespace, False)
            )
    elif namespaced is False and namespace:
        causes.append(f.forbidden(f.child(path, "namespace"), "not allowed on this type"))
    causes.extend(validate_nonnegative(meta.get("generation"), f.child(path, "generation")))
    causes.extend(validate_labels(meta.get("labels"), f.child(path, "labels")))
    causes.extend(validate_annotations(meta.get("annotations"), f.child(path, "annotations")))
    causes.extend(_validate_owner_references(meta.get("ownerReferences"), f.child(path, "ownerReferences")))
    causes.extend(_validate_finalizers(meta.get("finalizers"), f.child(path, "finalizers"), kube_finalizers))
    return causes


def validate_object_meta_update(new: Any, old: Any, path: str = "metadata") -> list[Cause]:
    """The checks only an update has. Labels, annotations and the rest are re-checked by the create-time pass."""
    new, old = as_dict(new), as_dict(old)
    causes: list[Cause] = []
    if old.get("deletionTimestamp"):
        old_finalizers = set(as_list(old.get("finalizers")))
        added = [x for x in as_list(new.get("finalizers")) if x not in old_finalizers]
        if added:
            causes.append(
                f.forbidden(
                    f.child(path, "finalizers"),
                    "no new finalizers can be added if the object is being deleted, found new finalizers "
                    + f.go_string_slice(added),
                )
            )
    for name in ("name", "namespace", "uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"):
        if not semantic_equal(new.get(name), old.get(name)):
            value = new.get(name)
            causes.append(f.invalid(f.child(path, name), "" if value is None else value, FIELD_IMMUTABLE))
    return causes


# ---- label selectors -----------------------------------------------------------------------------------------

_SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def validate_label_selector(selector: Any, path: str) -> list[Cause]:
    """`metav1validation.ValidateLabelSelector` (label values in selectors validated strictly)."""
    if selector is None:
        return []
    selector = as_dict(selector)
    causes = validate_labels(selector.get("matchLabels"), f.child(path, "matchLabels"))
    for i, expr in enumerate(as_list(selector.get("matchExpressions"))):
        expr = as_dict(expr)
        epath = f.index(f.child(path, "matchExpressions"), i)
        operator = as_str(expr.get("operator"))
        values = as_list(expr.get("values"))
        if operator in ("In", "NotIn"):
            if not values:
                causes.append(
                    f.required(f.child(epath, "values"), "must be specified when `operator` is 'In' or 'NotIn'")
                )
        elif operator in ("Exists", "DoesNotExist"):
            if values:
                causes.append(
                    f.forbidden(
                        f.child(epath, "values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"
                    )
                )
        else:
            causes.append(f.invalid(f.child(epath, "operator"), operator, "not a valid selector operator"))
        causes.extend(validate_label_name(as_str(expr.get("key")), f.child(epath, "key")))
        for j, value in enumerate(values):
            value = as_str(value)
            causes.extend(
                f.invalid(f.index(f.child(epath, "values"), j), value, msg) for msg in is_valid_label_value(value)
            )
    return causes


def selector_is_convertible(selector: Any) -> bool:
    """Whether `metav1.LabelSelectorAsSelector` would accept the selector (a nil one is accepted)."""
    if selector is None:
        return True
    selector = as_dict(selector)
    for k, v in as_dict(selector.get("matchLabels")).items():
        if is_qualified_name(k) or is_valid_label_value(as_str(v)):
            return False
    for expr in as_list(selector.get("matchExpressions")):
        expr = as_dict(expr)
        operator = as_str(expr.get("operator"))
        values = [as_str(v) for v in as_list(expr.get("values"))]
        if operator not in _SELECTOR_OPERATORS or is_qualified_name(as_str(expr.get("key"))):
            return False
        if (operator in ("In", "NotIn")) != bool(values):
            return False
        if any(is_valid_label_value(v) for v in values):
            return False
    return True


def selector_is_empty(selector: Any) -> bool:
    """A non-nil selector with no requirements: it matches everything."""
    selector = as_dict(selector)
    return not as_dict(selector.get("matchLabels")) and not as_list(selector.get("matchExpressions"))


def selector_matches(selector: Any, labels: Mapping[str, Any] | None) -> bool:
    """Whether a (convertible) LabelSelector selects an object with these labels. A nil selector matches
    nothing, an empty one everything."""
    if selector is None:
        return False
    selector = as_dict(selector)
    labels = labels or {}
    for k, v in as_dict(selector.get("matchLabels")).items():
        if k not in labels or labels[k] != v:
            return False
    for expr in as_list(selector.get("matchExpressions")):
        expr = as_dict(expr)
        k = as_str(expr.get("key"))
        operator = as_str(expr.get("operator"))
        values = as_list(expr.get("values"))
        present = k in labels
        if (
            (operator == "In" and not (present and labels[k] in values))
            or (operator == "NotIn" and present and labels[k] in values)
            or (operator == "Exists" and not present)
            or (operator == "DoesNotExist" and present)
        ):
            return False
    return True
