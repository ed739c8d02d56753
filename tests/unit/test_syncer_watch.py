"""The syncer's watch loop on the control plane: a 410 Gone (the resourceVersion compacted away, or a watcher too
slow for the server) and a broken connection each lead to a fresh list, and then a watch from that list's
resourceVersion, never to a gap. Driven by a scripted stand-in for the control plane."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any

from kubernetes import client

from syncer.syncer import Syncer, WorkspaceView
from syncer.upstream import DEPLOYMENTS, Expired, Resource, Unreachable, WatchEvent


class ScriptedControlPlane:
    """Lists answer with the next resourceVersion; each watch plays the next script, then waits for ever."""

    def __init__(self, scripts: list[list[WatchEvent | Exception]]) -> None:
        self.scripts = scripts
        self.lists = 0
        self.watched_from: list[str] = []

    async def list(self, resource: Resource, workspace: str, namespace: str = "",
                   params: Mapping[str, str] | None = None) -> dict[str, Any]:
        self.lists += 1
        return {"metadata": {"resourceVersion": str(100 * self.lists)}, "items": [{"n": self.lists}]}

    async def watch(self, resource: Resource, workspace: str, resource_version: str, namespace: str = "",
                    params: Mapping[str, str] | None = None) -> AsyncIterator[WatchEvent]:
        self.watched_from.append(resource_version)
        script = self.scripts.pop(0) if self.scripts else []
        for step in script:
            if isinstance(step, Exception):
                raise step
            yield step
        await asyncio.Event().wait()


async def run_watch(control_plane: ScriptedControlPlane, until: int) -> list[tuple[str, Any]]:
    seen: list[tuple[str, Any]] = []
    syncer = Syncer("edge-1", control_plane, client.ApiClient())  # type: ignore[arg-type]
    task = asyncio.create_task(syncer._watch(WorkspaceView("root:a"), DEPLOYMENTS, {},
                                             lambda type_, obj: seen.append((type_, obj))))
    try:
        async with asyncio.timeout(10):
            while len(seen) < until:
                await asyncio.sleep(0.01)
    finally:
        task.cancel()
    return seen


async def test_a_410_mid_watch_lists_again_and_watches_from_the_new_list() -> None:
    control_plane = ScriptedControlPlane([
        [WatchEvent("ADDED", {"x": 1}), Expired(410, "too old resource version", "Expired")],
        [WatchEvent("MODIFIED", {"x": 2})],
    ])
    seen = await run_watch(control_plane, until=4)
    assert seen == [("RELISTED", {"metadata": {"resourceVersion": "100"}, "items": [{"n": 1}]}),
                    ("ADDED", {"x": 1}),
                    ("RELISTED", {"metadata": {"resourceVersion": "200"}, "items": [{"n": 2}]}),
                    ("MODIFIED", {"x": 2})]
    assert control_plane.watched_from == ["100", "200"], "each watch starts from the list just made"


async def test_a_broken_connection_lists_again_after_a_pause() -> None:
    control_plane = ScriptedControlPlane([
        [Unreachable(ConnectionResetError("connection reset by peer"))],
        [WatchEvent("DELETED", {"x": 3})],
    ])
    seen = await run_watch(control_plane, until=3)
    assert [type_ for type_, _ in seen] == ["RELISTED", "RELISTED", "DELETED"]
    assert control_plane.watched_from == ["100", "200"]


async def test_bookmarks_are_not_events() -> None:
    control_plane = ScriptedControlPlane([[WatchEvent("BOOKMARK", {}), WatchEvent("ADDED", {"x": 4})]])
    seen = await run_watch(control_plane, until=2)
    assert [type_ for type_, _ in seen] == ["RELISTED", "ADDED"]
