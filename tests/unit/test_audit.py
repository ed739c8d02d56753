"""The audit log: one private JSON line per request, buffered in memory and flushed periodically and on close."""

from __future__ import annotations

import asyncio
import json
import re
import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from controlplane.audit import AuditLog

ENTRY: dict[str, Any] = {"user": "alice", "groups": ["system:authenticated"], "verb": "get", "code": 200}
TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def eventually(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def test_record_before_open_writes_nothing(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "audit.log")

    audit.record(ENTRY)
    audit.flush()

    assert not (tmp_path / "audit.log").exists()


async def test_each_record_is_one_json_line_with_the_time_first(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "logs" / "audit.log")
    audit.open()

    audit.record(ENTRY)
    audit.record({**ENTRY, "verb": "delete", "code": 403})
    await audit.close()

    raw = (tmp_path / "logs" / "audit.log").read_text()
    assert raw.endswith("\n")
    first, second = lines(tmp_path / "logs" / "audit.log")
    assert list(first) == ["time", "user", "groups", "verb", "code"]
    assert {k: v for k, v in first.items() if k != "time"} == ENTRY
    assert (second["verb"], second["code"]) == ("delete", 403)
    assert TIME.match(first["time"])
    written = datetime.strptime(first["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - written) < timedelta(minutes=1)


async def test_audit_log_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    path.write_text("")
    path.chmod(0o644)
    audit = AuditLog(path)

    audit.open()
    await audit.close()

    assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_new_audit_log_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    audit = AuditLog(path)

    audit.open()
    await audit.close()

    assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_records_are_buffered_then_flushed_within_the_interval(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    audit = AuditLog(path, flush_interval=0.05)
    audit.open()
    try:
        audit.record(ENTRY)
        assert path.read_text() == ""  # the request path only wrote into memory

        await eventually(lambda: path.read_text() != "")

        assert len(lines(path)) == 1
        audit.record(ENTRY)
        await eventually(lambda: len(path.read_text().splitlines()) == 2)
    finally:
        await audit.close()


async def test_close_flushes_what_is_buffered(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    audit = AuditLog(path, flush_interval=3600)
    audit.open()
    for code in (200, 201, 404):
        audit.record({**ENTRY, "code": code})

    await audit.close()

    assert [line["code"] for line in lines(path)] == [200, 201, 404]


async def test_explicit_flush_writes_at_once(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    audit = AuditLog(path, flush_interval=3600)
    audit.open()
    try:
        audit.record(ENTRY)

        audit.flush()

        assert len(lines(path)) == 1
    finally:
        await audit.close()


async def test_record_after_close_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    audit = AuditLog(path)
    audit.open()
    await audit.close()

    audit.record(ENTRY)
    await audit.close()

    assert path.read_text() == ""


async def test_reopening_appends_to_the_existing_log(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    for user in ("alice", "bob"):
        audit = AuditLog(path)
        audit.open()
        audit.record({**ENTRY, "user": user})
        await audit.close()

    assert [line["user"] for line in lines(path)] == ["alice", "bob"]


async def test_close_without_open_is_harmless(tmp_path: Path) -> None:
    await AuditLog(tmp_path / "audit.log").close()

    assert not (tmp_path / "audit.log").exists()
