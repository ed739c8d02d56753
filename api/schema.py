"""The Kubernetes type tree, as the API server needs it.

One `Schema` node per type or field: its JSON kind, its description (for `kubectl explain` and OpenAPI), and the
list semantics that strategic merge patch and server-side apply depend on (patch strategy, merge key, list type).
Object properties, array items and map values are resolved lazily, because the Kubernetes types are recursive
(JSONSchemaProps contains JSONSchemaProps) and most requests touch only a few of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

Resolver = Callable[[], "Schema"]


@dataclass(eq=False)
class Schema:
    # "object" | "array" | "map" | "string" | "integer" | "number" | "boolean" | "int-or-string" | "any"
    kind: str
    type_name: str = ""  # OpenAPI definition name of an object, e.g. "io.k8s.api.apps.v1.DeploymentSpec"
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
    enum: tuple[str, ...] = ()
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
