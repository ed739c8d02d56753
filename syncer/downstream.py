"""The syncer's side of the physical cluster: the official `kubernetes` client, exactly as towards K3s.

The client is synchronous, so each informer (list, then watch from the list's resourceVersion, relisting on 410
Gone, retrying with back-off on errors) runs in a thread of its own and hands its events to the event loop. Writes
run in the default executor. `Informer.cache` is the informer's view: (namespace, name) -> object as a dict, as the
cluster sent it: the client's models are skipped (`_preload_content=False`), which spares their cost and keeps
every value as it was written (a model would turn a timestamp `...Z` into `...+00:00`, which a mirror would then
carry).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.watch.watch import iter_resp_lines
from urllib3.exceptions import HTTPError

log = logging.getLogger(__name__)

Key = tuple[str, str]
_RETRY_MAX_SECONDS = 30.0
_WATCH_TIMEOUT_SECONDS = 300


def api_client(kubeconfig: Path) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(kubeconfig))


class _Expired(Exception):
    """The watch's resourceVersion is gone from the cluster's history (410): list again."""


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

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()

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

    def _watch(self, version: str) -> str:
        """Deliver the events after `version` until the cluster ends the watch; the resourceVersion reached."""
        response = self._list(label_selector=self._selector, resource_version=version, watch=True,
                              allow_watch_bookmarks=True, timeout_seconds=_WATCH_TIMEOUT_SECONDS,
                              _preload_content=False)
        try:
            for line in iter_resp_lines(response):
                if self._stopped.is_set():
                    return version
                event = json.loads(line)
                obj = event.get("object") or {}
                if event.get("type") == "ERROR":
                    if obj.get("code") == 410:
                        raise _Expired
                    raise ApiException(status=obj.get("code") or 500, reason=obj.get("message", ""))
                version = (obj.get("metadata") or {}).get("resourceVersion", version)
                if event.get("type") != "BOOKMARK":
                    self._deliver(event["type"], obj)
        finally:
            response.release_conn()
        return version

    def _disconnected(self) -> None:
        self.connected = False

    def _run(self) -> None:
        delay = 0.2
        while not self._stopped.is_set():
            try:
                listed = json.loads(self._list(label_selector=self._selector, _preload_content=False).data)
                self._relisted(listed.get("items") or [])
                version = listed["metadata"]["resourceVersion"]
                delay = 0.2
                while not self._stopped.is_set():
                    version = self._watch(version)
            except _Expired:
                log.info("%s: watch expired; relisting", self.name)
                continue
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
