"""The watch protocol over raw HTTP: timeouts, initial events and bookmarks, as client-go's reflectors use them."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest

from tests.conftest import ApiServer, Kubectl
from tests.integration.support import admin_tls, configmap, http, workspace_url


@pytest.fixture
def cms(apiserver: ApiServer, kubectl: Kubectl) -> str:
    return f"{workspace_url(apiserver, kubectl.workspace)}/api/v1/namespaces/default/configmaps"


def events_of(url: str, count: int, timeout: float = 20) -> list[dict[str, Any]]:
    """The first `count` events of a watch (fewer if the server ends it)."""
    events = []
    with urllib.request.urlopen(url, timeout=timeout, context=admin_tls(url)) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("application/json")
        while len(events) < count:
            line = resp.readline()
            if not line:
                break
            events.append(json.loads(line))
    return events


def test_watch_ends_cleanly_after_timeout_seconds(cms: str) -> None:
    status, body, _ = http("GET", f"{cms}?watch=true&timeoutSeconds=1")
    assert (status, body) == (200, "")


def test_watch_from_list_resource_version_sees_the_next_change(cms: str) -> None:
    assert http("POST", cms, configmap("a", {"v": "1"}))[0] == 201
    listed = http("GET", cms)[1]
    rv = listed["metadata"]["resourceVersion"]
    assert http("PATCH", f"{cms}/a", {"data": {"v": "2"}}, content_type="application/merge-patch+json")[0] == 200
    [event] = events_of(f"{cms}?watch=true&resourceVersion={rv}&timeoutSeconds=10", 1)
    assert event["type"] == "MODIFIED"
    assert event["object"]["data"] == {"v": "2"}
    assert int(event["object"]["metadata"]["resourceVersion"]) > int(rv)


def test_watch_with_timeout_seconds_zero_stays_open(cms: str) -> None:
    with urllib.request.urlopen(f"{cms}?watch=true&timeoutSeconds=0", timeout=20, context=admin_tls(cms)) as resp:
        assert http("POST", cms, configmap("late"))[0] == 201
        line = resp.readline()
    assert line, "the watch ended without delivering the event"
    event = json.loads(line)
    assert (event["type"], event["object"]["metadata"]["name"]) == ("ADDED", "late")


def test_watch_list_sends_initial_events_then_a_bookmark(cms: str) -> None:
    for name in ("a", "b"):
        assert http("POST", cms, configmap(name))[0] == 201
    url = (f"{cms}?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan"
           "&timeoutSeconds=10")
    events = events_of(url, 3)
    assert [(e["type"], e["object"]["metadata"].get("name")) for e in events[:2]] == [("ADDED", "a"), ("ADDED", "b")]
    bookmark = events[2]
    assert bookmark["type"] == "BOOKMARK"
    assert bookmark["object"]["kind"] == "ConfigMap"
    assert bookmark["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    assert int(bookmark["object"]["metadata"]["resourceVersion"]) >= max(
        int(e["object"]["metadata"]["resourceVersion"]) for e in events[:2]
    )


def relabelled_twice(cms: str) -> tuple[str, list[dict[str, Any]]]:
    """x labelled team=blue, then green, then blue again; the two events a team=blue watcher gets."""
    assert http("POST", cms, configmap("x", labels={"team": "blue"}))[0] == 201
    rv = http("GET", cms)[1]["metadata"]["resourceVersion"]
    for team in ("green", "blue"):
        status, _, _ = http("PATCH", f"{cms}/x", {"metadata": {"labels": {"team": team}}},
                            content_type="application/merge-patch+json")
        assert status == 200
    return rv, events_of(f"{cms}?watch=true&labelSelector=team%3Dblue&resourceVersion={rv}&timeoutSeconds=10", 2)


def test_watch_with_label_selector_reports_objects_leaving_as_deleted(cms: str) -> None:
    rv, events = relabelled_twice(cms)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("DELETED", "x"), ("ADDED", "x")]
    revisions = [int(e["object"]["metadata"]["resourceVersion"]) for e in events]
    assert int(rv) < revisions[0] < revisions[1]


def test_deleted_event_for_an_object_leaving_the_selector_carries_its_previous_content(cms: str) -> None:
    _, events = relabelled_twice(cms)
    assert [(e["type"], e["object"]["metadata"]["labels"]["team"]) for e in events] == [
        ("DELETED", "blue"), ("ADDED", "blue"),
    ]


def test_watch_from_a_future_resource_version_is_refused(cms: str) -> None:
    rv = int(http("GET", cms)[1]["metadata"]["resourceVersion"])
    status, body, _ = http("GET", f"{cms}?watch=true&resourceVersion={rv + 1_000_000}&timeoutSeconds=10")
    assert status == 504
    assert body["reason"] == "Timeout"
    assert body["message"].startswith(f"Too large resource version: {rv + 1_000_000}, current: ")
