"""A watcher's view stays exact under concurrent writes through two servers: replaying the events it received
onto the list it started from gives exactly what a fresh list shows, object by object and version by version."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path

import aiohttp

from tests.conftest import ApiServer, Etcd, start_apiserver, stop_apiserver

WRITES = 300


async def replay(session: aiohttp.ClientSession, url: str, done: asyncio.Event) -> dict[str, str]:
    """List, then watch from the list's resourceVersion until `done` and the stream has gone quiet."""
    async with session.get(url) as resp:
        listed = await resp.json()
    state = {o["metadata"]["name"]: o["metadata"]["resourceVersion"] for o in listed["items"]}
    rv = listed["metadata"]["resourceVersion"]
    quiet_since_done = 0
    async with session.get(f"{url}?watch=1&resourceVersion={rv}&allowWatchBookmarks=true") as resp:
        while True:
            try:
                line = await asyncio.wait_for(resp.content.readline(), 0.5)
            except TimeoutError:
                quiet_since_done = quiet_since_done + 1 if done.is_set() else 0
                if quiet_since_done >= 4:  # writes are over and nothing came for 2 s: the view is complete
                    return state
                continue
            quiet_since_done = 0
            event = json.loads(line)
            meta = event["object"]["metadata"]
            if event["type"] == "DELETED":
                state.pop(meta["name"], None)
            elif event["type"] in ("ADDED", "MODIFIED"):
                state[meta["name"]] = meta["resourceVersion"]
            elif event["type"] == "ERROR":
                raise AssertionError(f"watch failed: {event}")


async def writer(session: aiohttp.ClientSession, urls: list[str], seed: int) -> None:
    rng = random.Random(seed)
    for i in range(WRITES):
        url = rng.choice(urls)
        name = f"cm-{rng.randrange(20)}"
        action = rng.random()
        if action < 0.4:
            async with session.post(url, json={"metadata": {"name": name}, "data": {"i": str(i)}}) as resp:
                assert resp.status in (201, 409), await resp.text()
        elif action < 0.8:
            async with session.patch(f"{url}/{name}", json={"data": {"i": str(i)}},
                                     headers={"Content-Type": "application/merge-patch+json"}) as resp:
                assert resp.status in (200, 404), await resp.text()
        else:
            async with session.delete(f"{url}/{name}") as resp:
                assert resp.status in (200, 404), await resp.text()


async def run(first: ApiServer, second: ApiServer) -> None:
    ws = first.new_workspace()
    urls = [f"{s.url}/clusters/{ws}/api/v1/namespaces/default/configmaps" for s in (first, second)]
    connector = aiohttp.TCPConnector(ssl=first.admin_tls)  # the test servers share one CA: one admin for both
    async with aiohttp.ClientSession(connector=connector) as session:
        for url in urls:  # both servers know the workspace before anyone watches
            async with session.get(url) as resp:
                assert resp.status == 200
        done = asyncio.Event()
        watchers = [asyncio.create_task(replay(session, url, done)) for url in urls]
        await asyncio.sleep(0.5)
        await asyncio.gather(*(writer(session, urls, seed) for seed in range(4)))
        done.set()
        views = await asyncio.gather(*watchers)
        async with session.get(urls[0]) as resp:
            final = {o["metadata"]["name"]: o["metadata"]["resourceVersion"] for o in (await resp.json())["items"]}
    assert views[0] == final
    assert views[1] == final


def test_watchers_on_two_servers_converge_on_the_exact_final_state(etcd: Etcd, tmp_path: Path) -> None:
    first = start_apiserver(tmp_path / "a", etcd.url)
    second = start_apiserver(tmp_path / "b", etcd.url)
    try:
        asyncio.run(run(first, second))
    finally:
        stop_apiserver(first)
        stop_apiserver(second)
