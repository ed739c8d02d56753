"""The strategy interface, its shared behaviour, and the strategy used for kinds Canopy has no rules for.

A strategy is kube-apiserver's `RESTCreateStrategy` / `RESTUpdateStrategy` for one resource: the generic store
never mentions a kind and asks the strategy instead. The store's sequence, and what each step is for:

create:  `prepare_for_create(obj)` → `default(obj)` → `validate(obj)`
update:  `prepare_for_update(obj, old)` → `default(obj)` → `validate(obj)` + `validate_update(obj, old)`

* `default` applies the v1 defaulters in place. It is idempotent, and both `prepare_*` methods apply it first
  themselves, because what they decide (the generation bump, the initial status) must see the defaulted object,
  as it does in kube-apiserver where defaulting happens while decoding.
* `prepare_for_create` resets what a client may not set: `status`, and `metadata.generation` (1 for kinds that
  track it).
* `prepare_for_update` keeps the stored `status` (clients change it through the status subresource) and sets
  `metadata.generation`: the stored value, plus one when the spec changed. Kinds without a generation
  (ConfigMap, Secret, Service, Pod, Namespace...) never get one.
* `validate` is everything a stored object must satisfy; it runs on every write. `validate_update` adds only the
  rules about the transition (immutable fields), so the two lists never repeat a cause.
* `decode_error` reports what kube-apiserver rejects while decoding the body, before any of the above: a
  malformed quantity, bad base64 in a Secret. It returns the whole `400 BadRequest` message
  (`Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 4`) or None.

The status subresource has its own strategy (`StatusStrategy`): a write there may only change `status`; the
stored spec (and, depending on the kind, some metadata) is put back before validation, and the generation never
moves. Name generation, uid, timestamps, resourceVersion and namespace placement are the store's business.
"""

from __future__ import annotations

import copy
from typing import Any

from controlplane.errors import Cause
from controlplane.registry.formats import NameValidator, name_is_dns_subdomain
from controlplane.registry.meta import (
    validate_annotations,
    validate_labels,
    validate_object_meta,
    validate_object_meta_update,
)
from controlplane.registry.values import as_dict, as_int, semantic_equal

Object = dict[str, Any]


def metadata(obj: Object) -> dict[str, Any]:
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        meta = {}
        obj["metadata"] = meta
    return meta


def keep_old(obj: Object, old: Object, name: str) -> None:
    """Make `obj[name]` the stored value (absent if the stored object has none)."""
    if name in old:
        obj[name] = copy.deepcopy(old[name])
    else:
        obj.pop(name, None)


class Strategy:
    """What one resource does differently. Subclasses override the hooks at the bottom."""

    group: str = ""
    kind: str = ""
    namespaced: bool | None = True  # None: scope unknown, the namespace rule is not checked
    tracks_generation: bool = False
    has_status: bool = False  # status is written only through the status subresource
    name_validator: NameValidator = staticmethod(name_is_dns_subdomain)
    kube_finalizers: bool = True  # built-in types reject unqualified finalizer names other than the standard ones

    # ---- the interface -------------------------------------------------------------------------------------

    def default(self, obj: Object) -> None:
        """Apply the v1 defaulters in place."""

    def prepare_for_create(self, obj: Object) -> None:
        self.default(obj)
        if self.has_status:
            obj["status"] = self.initial_status(obj)
        if self.tracks_generation:
            metadata(obj)["generation"] = 1

    def prepare_for_update(self, obj: Object, old: Object) -> None:
        self.default(obj)
        if self.has_status:
            keep_old(obj, old, "status")
        meta, old_meta = metadata(obj), as_dict(old.get("metadata"))
        generation = as_int(old_meta.get("generation"))
        if generation is not None and self.tracks_generation and self.spec_changed(obj, old):
            generation += 1
        if generation is None:
            meta.pop("generation", None)
        else:
            meta["generation"] = generation

    def validate(self, obj: Object) -> list[Cause]:
        causes = validate_object_meta(
            obj.get("metadata"),
            namespaced=self.namespaced,
            name_validator=self.name_validator,
            kube_finalizers=self.kube_finalizers,
        )
        return causes + self.validate_object(obj)

    def validate_update(self, obj: Object, old: Object) -> list[Cause]:
        causes = validate_object_meta_update(obj.get("metadata"), old.get("metadata"))
        return causes + self.validate_object_update(obj, old)

    def decode_error(self, obj: Object) -> str | None:
        problem = self.decode_problem(obj)
        if problem is None:
            return None
        api_version = obj.get("apiVersion")
        version = api_version.rsplit("/", 1)[-1] if isinstance(api_version, str) and api_version else "v1"
        return f'{self.kind} in version "{version}" cannot be handled as a {self.kind}: {problem}'

    # ---- hooks ---------------------------------------------------------------------------------------------

    def initial_status(self, obj: Object) -> dict[str, Any]:
        """The status a new object starts with (Go's zero value renders as `{}`)."""
        return {}

    def spec_changed(self, obj: Object, old: Object) -> bool:
        """Whether an update bumps the generation."""
        return not semantic_equal(obj.get("spec"), old.get("spec"))

    def validate_object(self, obj: Object) -> list[Cause]:
        """Kind-specific checks of the whole object, beyond ObjectMeta."""
        return []

    def validate_object_update(self, obj: Object, old: Object) -> list[Cause]:
        """Kind-specific transition rules."""
        return []

    def decode_problem(self, obj: Object) -> str | None:
        """Why the body would not decode, in the decoder's words; None when it would."""
        return None

    def graceful_delete_seconds(self, obj: Object, requested: int | None) -> int:
        """How long a deleted object stays (terminating) before it goes: 0 is at once. Most kinds: at once."""
        return 0


class StatusStrategy:
    """Writes through `/status`: only `status` changes; everything in `kept` is restored from the stored object."""

    def __init__(self, main: Strategy, kept: tuple[str, ...] = ("spec",), kept_metadata: tuple[str, ...] = ()) -> None:
        self.main = main
        self.kept = kept
        self.kept_metadata = kept_metadata

    @property
    def kind(self) -> str:
        return self.main.kind

    def default(self, obj: Object) -> None:
        self.main.default(obj)

    def prepare_for_create(self, obj: Object) -> None:
        self.main.prepare_for_create(obj)

    def prepare_for_update(self, obj: Object, old: Object) -> None:
        self.main.default(obj)
        for name in self.kept:
            keep_old(obj, old, name)
        meta, old_meta = metadata(obj), as_dict(old.get("metadata"))
        for name in (*self.kept_metadata, "generation"):
            keep_old(meta, old_meta, name)

    def validate(self, obj: Object) -> list[Cause]:
        return []

    def validate_update(self, obj: Object, old: Object) -> list[Cause]:
        meta = as_dict(obj.get("metadata"))
        causes = validate_object_meta_update(meta, old.get("metadata"))
        causes += validate_labels(meta.get("labels"), "metadata.labels")
        causes += validate_annotations(meta.get("annotations"), "metadata.annotations")
        return causes + self.validate_status(obj, old)

    def decode_error(self, obj: Object) -> str | None:
        return self.main.decode_error(obj)

    def validate_status(self, obj: Object, old: Object) -> list[Cause]:
        """Kind-specific checks of the new status."""
        return []


class GenericStrategy(Strategy):
    """Kinds without rules of their own (custom resources): ObjectMeta validation only, and the generation moves
    whenever anything outside `metadata` changes, as for CustomResourceDefinitions."""

    kube_finalizers = False
    tracks_generation = True

    def __init__(self, group: str, kind: str, *, namespaced: bool | None = None, has_status: bool = True) -> None:
        self.group = group
        self.kind = kind
        self.namespaced = namespaced
        self.has_status = has_status

    def prepare_for_create(self, obj: Object) -> None:
        self.default(obj)
        if self.has_status:
            obj.pop("status", None)
        metadata(obj)["generation"] = 1

    def spec_changed(self, obj: Object, old: Object) -> bool:
        def content(o: Object) -> dict[str, Any]:
            return {k: v for k, v in o.items() if k not in ("metadata", "apiVersion", "kind")}

        return not semantic_equal(content(obj), content(old))


class GenericStatusStrategy(StatusStrategy):
    """A custom resource's `/status`: the stored object is kept whole and only `status` is taken from the write."""

    def prepare_for_update(self, obj: Object, old: Object) -> None:
        status = obj.get("status")
        has_status = "status" in obj
        managed_fields = as_dict(obj.get("metadata")).get("managedFields")
        obj.clear()
        obj.update(copy.deepcopy(old))
        if managed_fields is not None:
            metadata(obj)["managedFields"] = managed_fields
        if has_status:
            obj["status"] = status
        else:
            obj.pop("status", None)
