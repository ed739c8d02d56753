"""Stand-ins shared by unit tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from controlplane.storage.keys import ObjectKey
from controlplane.storage.watchcache import ADDED, DELETED, MODIFIED, CachedObject, WatchEvent


class FakeCache:
    """The part of the WatchCache the authenticator uses; the test writes objects and the listeners hear of it."""

    def __init__(self) -> None:
        self.objects: dict[str, CachedObject] = {}
        self.listeners: list[Callable[[WatchEvent], None]] = []
        self.relist_listeners: list[Callable[[], None]] = []
        self.revision = 0

    def list(self, rid: tuple[str, str, str], prefix: str) -> list[CachedObject]:
        return [
            cached for key, cached in sorted(self.objects.items())
            if (cached.key.workspace, cached.key.group, cached.key.resource) == rid and key.startswith(prefix)
        ]

    def add_listener(self, listener: Callable[[WatchEvent], None], on_relist: Callable[[], None] | None = None) -> None:
        self.listeners.append(listener)
        if on_relist is not None:
            self.relist_listeners.append(on_relist)

    def remove_listener(
        self, listener: Callable[[WatchEvent], None], on_relist: Callable[[], None] | None = None
    ) -> None:
        self.listeners.remove(listener)
        if on_relist is not None:
            self.relist_listeners.remove(on_relist)

    def put(self, key: ObjectKey, obj: dict[str, Any], *, quietly: bool = False) -> None:
        """Store `obj`; unless `quietly`, tell the listeners as the real cache does after applying an etcd event."""
        self.revision += 1
        prev = self.objects.get(key.encode())
        self.objects[key.encode()] = CachedObject(key, obj, self.revision)
        if not quietly:
            kind = MODIFIED if prev is not None else ADDED
            self._emit(WatchEvent(kind, key, obj, prev.obj if prev is not None else None, self.revision))

    def delete(self, key: ObjectKey, *, quietly: bool = False) -> None:
        self.revision += 1
        prev = self.objects.pop(key.encode())
        if not quietly:
            self._emit(WatchEvent(DELETED, key, prev.obj, prev.obj, self.revision))

    def relist(self) -> None:
        for on_relist in self.relist_listeners:
            on_relist()

    def _emit(self, event: WatchEvent) -> None:
        for listener in self.listeners:
            listener(event)
