"""The syncer's side of the physical cluster: the official `kubernetes` client, exactly as towards K3s.

The client is synchronous, so each informer (list, then watch from the list's resourceVersion, relisting on 410
Gone, retrying with back-off on errors) runs in a thread of its own and hands its events to the event loop. Writes
run in the default executor. `Informer.cache` is the informer's view: (namespace, name) -> object as a dict.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubernetes import client, config, watch
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

log = logging.getLogger(__name__)

Key = tuple[str, str]
_RETRY_MAX_SECONDS = 30.0
_WATCH_TIMEOUT_SECONDS = 300


def api_client(kubeconfig: Path) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(kubeconfig))


def _key(obj: dict[str, Any]) -> Key:
    meta = obj.get("metadata") or {}
    return meta.get("namespace") or "", meta.get("name") or ""


class Informer:
    """List and watch one resource across all namespaces; `on_change(type, obj)` runs on the event loop."""

    def __init__(self, name: str, list_call: Callable[..., Any], on_change: Callable[[str, dict[str, Any]], None],
                 *, label_selector: str = "") -> None:
        self.name = name
        self._list = list_call
        self._on_change = on_change
        self._selector = label_selector
        self.cache: dict[Key, dict[str, Any]] = {}
        self.synced = asyncio.Event()
        # The cache follows the cluster: listed, and no error since. While False it is what was last seen.
        self.connected = False
        self._loop = asyncio.get_running_loop()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"informer-{name}", daemon=True)
        self._serializer = client.ApiClient()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()

    def _to_dict(self, obj: Any) -> dict[str, Any]:
        return obj if isinstance(obj, dict) else self._serializer.sanitize_for_serialization(obj)

    def _deliver(self, type_: str, obj: dict[str, Any]) -> None:
        def apply() -> None:
            key = _key(obj)
            if type_ == "DELETED":
                self.cache.pop(key, None)
            else:
                self.cache[key] = obj
            self._on_change(type_, obj)

        self._loop.call_soon_threadsafe(apply)

    def _relisted(self, items: list[dict[str, Any]]) -> None:
        def apply() -> None:
            fresh = {_key(o): o for o in items}
            gone = [o for k, o in self.cache.items() if k not in fresh]
            self.cache = fresh
            for obj in gone:
                self._on_change("DELETED", obj)
            self.connected = True
            for obj in items:
                self._on_change("ADDED", obj)
            self.synced.set()

        self._loop.call_soon_threadsafe(apply)

    def _disconnected(self) -> None:
        self.connected = False

    def _run(self) -> None:
        delay = 0.2
        while not self._stopped.is_set():
            try:
                listed = self._list(label_selector=self._selector)
                items = [self._to_dict(o) for o in listed.items]
                self._relisted(items)
                version = listed.metadata.resource_version
                delay = 0.2
                while not self._stopped.is_set():
                    stream = watch.Watch().stream(self._list, label_selector=self._selector,
                                                  resource_version=version, timeout_seconds=_WATCH_TIMEOUT_SECONDS,
                                                  allow_watch_bookmarks=True)
                    for event in stream:
                        if self._stopped.is_set():
                            return
                        obj = self._to_dict(event["object"])
                        version = (obj.get("metadata") or {}).get("resourceVersion", version)
                        if event["type"] != "BOOKMARK":
                            self._deliver(event["type"], obj)
            except ApiException as exc:
                if exc.status == 410:
                    log.info("%s: watch expired; relisting", self.name)
                    continue
                self._loop.call_soon_threadsafe(self._disconnected)
                log.warning("%s: %s; retrying in %.1fs", self.name, exc.reason, delay)
            except (HTTPError, OSError, ValueError) as exc:
                self._loop.call_soon_threadsafe(self._disconnected)
                log.warning("%s: cluster unreachable (%s); retrying in %.1fs", self.name, exc, delay)
            time.sleep(delay)
            delay = min(delay * 2, _RETRY_MAX_SECONDS)
