"""The `pods/log` query, the choice of container, and the CRI log lines, as kube-apiserver and the kubelet do them.

Expected behaviour: PodLogOptions decoded from the query as apimachinery's parameter codec decodes it
(Convert_Slice_string_To_bool / _Pointer_int64, metav1.Time's RFC 3339 query form), validated by
ValidatePodLogOptions (422), the container picked by pkg/registry/core/pod's validateContainer (400), and log lines
in the CRI format containerd writes and the kubelet reads and renders (RFC3339NanoFixed with --timestamps).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from controlplane import errors
from controlplane.podlogs import (
    LogLine,
    LogOptions,
    choose_container,
    format_line,
    format_time,
    limit,
    parse_line,
    parse_options,
    render,
    select,
)


def status_error(query: dict[str, str]) -> errors.StatusError:
    with pytest.raises(errors.StatusError) as caught:
        parse_options("web-0", query)
    return caught.value


# ---- parse_options ---------------------------------------------------------------------------------------------

def test_an_empty_query_asks_for_the_whole_current_log() -> None:
    assert parse_options("web-0", {}) == LogOptions()


def test_every_option_is_read_from_the_query() -> None:
    options = parse_options("web-0", {
        "container": "app", "previous": "true", "follow": "true", "timestamps": "true", "tailLines": "20",
        "sinceSeconds": "300", "limitBytes": "1024",
    })
    assert options == LogOptions(container="app", previous=True, follow=True, timestamps=True, tail_lines=20,
                                 since_seconds=300, limit_bytes=1024)


def test_tail_lines_zero_is_valid() -> None:
    assert parse_options("web-0", {"tailLines": "0"}).tail_lines == 0


@pytest.mark.parametrize(("value", "expected"), [
    ("true", True), ("True", True), ("1", True), ("false", False), ("FALSE", False), ("0", False),
])
def test_booleans_read_as_kube_apiserver_reads_them(value: str, expected: bool) -> None:
    options = parse_options("web-0", {"follow": value, "previous": value, "timestamps": value})
    assert (options.follow, options.previous, options.timestamps) == (expected, expected, expected)


@pytest.mark.parametrize("value", ["yes", "", "on", "2"])
def test_any_boolean_other_than_false_or_zero_is_true(value: str) -> None:
    # apimachinery's Convert_Slice_string_To_bool: only absence, "false" (any case) and "0" are false;
    # "any other value (including empty string) resolves to true" -- `?follow` alone means follow.
    options = parse_options("web-0", {"follow": value, "previous": value, "timestamps": value})
    assert (options.follow, options.previous, options.timestamps) == (True, True, True)


@pytest.mark.parametrize("name", ["tailLines", "sinceSeconds", "limitBytes"])
@pytest.mark.parametrize("value", ["abc", "1.5", "", "ten", "1_0"])
def test_a_non_integer_is_a_bad_request(name: str, value: str) -> None:
    error = status_error({name: value})
    assert (error.code, error.reason) == (400, "BadRequest")


def test_since_time_is_an_rfc3339_time() -> None:
    options = parse_options("web-0", {"sinceTime": "2026-11-25T10:00:00Z"})
    assert options.since_time == datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def test_since_time_with_an_offset_is_the_same_instant() -> None:
    options = parse_options("web-0", {"sinceTime": "2026-11-25T12:00:00+02:00"})
    assert options.since_time == datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def test_since_time_may_carry_fractional_seconds() -> None:
    options = parse_options("web-0", {"sinceTime": "2026-11-25T10:00:00.5Z"})
    assert options.since_time == datetime(2026, 11, 25, 10, 0, 0, 500000, tzinfo=UTC)


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01T00:00:00Z", "2026-11-25", "2026-11-25T10:00:00"])
def test_a_since_time_that_is_not_rfc3339_is_a_bad_request(value: str) -> None:
    # metav1.Time.UnmarshalQueryParameter: time.Parse(time.RFC3339, ...), which needs the time and the zone.
    error = status_error({"sinceTime": value})
    assert (error.code, error.reason) == (400, "BadRequest")


def test_negative_tail_lines_are_invalid() -> None:
    error = status_error({"tailLines": "-1"})
    assert (error.code, error.reason) == (422, "Invalid")
    assert error.message == 'PodLogOptions "web-0" is invalid: tailLines: Invalid value: -1: must be greater than ' \
                            "or equal to 0"
    assert error.details["kind"] == "PodLogOptions"
    assert error.details["name"] == "web-0"
    assert error.details["causes"] == [{"reason": "FieldValueInvalid", "field": "tailLines",
                                        "message": "Invalid value: -1: must be greater than or equal to 0"}]


def test_limit_bytes_below_one_is_invalid() -> None:
    error = status_error({"limitBytes": "0"})
    assert error.code == 422
    assert error.message == 'PodLogOptions "web-0" is invalid: limitBytes: Invalid value: 0: must be greater than 0'


def test_since_seconds_below_one_is_invalid() -> None:
    error = status_error({"sinceSeconds": "0"})
    assert error.code == 422
    assert error.message == 'PodLogOptions "web-0" is invalid: sinceSeconds: Invalid value: 0: must be greater ' \
                            "than 0"


def test_since_time_and_since_seconds_together_are_forbidden() -> None:
    error = status_error({"sinceSeconds": "10", "sinceTime": "2026-11-25T10:00:00Z"})
    assert error.code == 422
    assert error.message == ('PodLogOptions "web-0" is invalid: : Forbidden: at most one of `sinceTime` or '
                             "`sinceSeconds` may be specified")


def test_with_both_since_options_only_the_conflict_is_reported() -> None:
    # ValidatePodLogOptions checks sinceSeconds' range in a `switch` case after the both-given case.
    error = status_error({"sinceSeconds": "0", "sinceTime": "2026-11-25T10:00:00Z"})
    assert error.message == ('PodLogOptions "web-0" is invalid: : Forbidden: at most one of `sinceTime` or '
                             "`sinceSeconds` may be specified")


def test_several_invalid_values_are_reported_together() -> None:
    error = status_error({"tailLines": "-5", "limitBytes": "-1"})
    assert error.message == (
        'PodLogOptions "web-0" is invalid: [tailLines: Invalid value: -5: must be greater than or equal to 0, '
        "limitBytes: Invalid value: -1: must be greater than 0]")


# ---- choose_container ------------------------------------------------------------------------------------------

def pod(containers: list[str], init: list[str] | None = None, ephemeral: list[str] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": n, "image": "img"} for n in containers]}
    if init:
        spec["initContainers"] = [{"name": n, "image": "img"} for n in init]
    if ephemeral:
        spec["ephemeralContainers"] = [{"name": n, "image": "busybox"} for n in ephemeral]
    return {"metadata": {"name": "web-0", "namespace": "shop"}, "spec": spec}


def bad_request(target: dict[str, Any], requested: str) -> str:
    with pytest.raises(errors.StatusError) as caught:
        choose_container(target, requested)
    assert (caught.value.code, caught.value.reason) == (400, "BadRequest")
    return caught.value.message


def test_the_only_container_is_chosen_when_none_is_named() -> None:
    assert choose_container(pod(["app"]), "") == "app"
    assert choose_container(pod(["app"], init=["migrate"]), "") == "app"


def test_a_named_container_is_chosen() -> None:
    assert choose_container(pod(["app", "proxy"]), "proxy") == "proxy"


def test_init_and_ephemeral_containers_can_be_named() -> None:
    target = pod(["app", "proxy"], init=["migrate"], ephemeral=["debugger-x7"])
    assert choose_container(target, "migrate") == "migrate"
    assert choose_container(target, "debugger-x7") == "debugger-x7"


def test_several_containers_and_none_named_lists_them() -> None:
    assert bad_request(pod(["app", "proxy"]), "") == (
        "a container name must be specified for pod web-0, choose one of: [app proxy]")


def test_the_list_of_choices_has_every_container_init_ones_first() -> None:
    # validateContainer collects names with podutil.VisitContainers (init, regular, ephemeral) into one list.
    assert bad_request(pod(["app", "proxy"], init=["migrate"]), "") == (
        "a container name must be specified for pod web-0, choose one of: [migrate app proxy]")
    assert bad_request(pod(["app", "proxy"], init=["migrate"], ephemeral=["debugger-x7"]), "") == (
        "a container name must be specified for pod web-0, choose one of: [migrate app proxy debugger-x7]")


def test_an_unknown_container_is_not_valid() -> None:
    assert bad_request(pod(["app", "proxy"]), "sidecar") == "container sidecar is not valid for pod web-0"
    assert bad_request(pod(["app"]), "nope") == "container nope is not valid for pod web-0"


# ---- CRI log lines ---------------------------------------------------------------------------------------------

MOMENT = datetime(2026, 11, 25, 10, 0, 5, 123456, tzinfo=UTC)


def test_times_are_rfc3339_with_nine_fraction_digits_in_utc() -> None:
    assert format_time(MOMENT) == "2026-11-25T10:00:05.123456000Z"
    assert format_time(datetime(2026, 11, 25, 10, 0, 5, tzinfo=UTC)) == "2026-11-25T10:00:05.000000000Z"
    plus_two = timezone(timedelta(hours=2))
    assert format_time(datetime(2026, 11, 25, 12, 0, 5, 123456, tzinfo=plus_two)) == "2026-11-25T10:00:05.123456000Z"


def test_a_line_is_time_stream_full_tag_and_text() -> None:
    assert format_line(MOMENT, "stdout", "listening on :8080") == (
        "2026-11-25T10:00:05.123456000Z stdout F listening on :8080\n")


@pytest.mark.parametrize("stream", ["stdout", "stderr"])
@pytest.mark.parametrize("text", ["hello", "a  b\tc", "", "  leading and trailing  ", "ünïcødé ✓"])
def test_a_formatted_line_parses_back(stream: str, text: str) -> None:
    assert parse_line(format_line(MOMENT, stream, text)) == LogLine(MOMENT, stream, text)


def test_containerd_nanoseconds_are_read_to_the_microsecond() -> None:
    line = parse_line("2026-11-25T10:00:05.123456789Z stderr F panic: boom\n")
    assert line == LogLine(MOMENT, "stderr", "panic: boom")


@pytest.mark.parametrize(("stamp", "micro"), [("2026-11-25T10:00:05.5Z", 500000), ("2026-11-25T10:00:05Z", 0),
                                               ("2026-11-25T10:00:05.1234Z", 123400)])
def test_containerds_rfc3339nano_stamps_with_trailing_zeros_dropped_parse(stamp: str, micro: int) -> None:
    # containerd writes time.RFC3339Nano, which drops trailing zeros; the kubelet reads them leniently.
    line = parse_line(f"{stamp} stdout F hi\n")
    assert line == LogLine(MOMENT.replace(microsecond=micro), "stdout", "hi")


def test_a_line_without_text_has_empty_text() -> None:
    assert parse_line("2026-11-25T10:00:05.123456000Z stdout F\n") == LogLine(MOMENT, "stdout", "")


@pytest.mark.parametrize("raw", ["", "\n", "garbage", "not a time stdout F hi\n", "2026-11-25 stdout"])
def test_what_is_not_a_log_line_parses_to_none(raw: str) -> None:
    assert parse_line(raw) is None


# ---- select / render / limit -----------------------------------------------------------------------------------

START = datetime(2026, 11, 25, 10, 0, 0, tzinfo=UTC)
LINES = [LogLine(START + timedelta(seconds=10 * i), "stdout", f"line {i}") for i in range(5)]


def texts(lines: list[LogLine]) -> list[str]:
    return [line.text for line in lines]


def test_without_options_every_line_is_selected() -> None:
    assert select(LINES, LogOptions(), START) == LINES


def test_since_time_keeps_lines_at_or_after_it() -> None:
    options = LogOptions(since_time=START + timedelta(seconds=20))
    assert texts(select(LINES, options, START + timedelta(hours=1))) == ["line 2", "line 3", "line 4"]


def test_since_seconds_counts_back_from_now() -> None:
    now = START + timedelta(seconds=45)
    assert texts(select(LINES, LogOptions(since_seconds=20), now)) == ["line 3", "line 4"]
    assert texts(select(LINES, LogOptions(since_seconds=25), now)) == ["line 2", "line 3", "line 4"]


def test_tail_lines_keeps_the_last_ones() -> None:
    assert texts(select(LINES, LogOptions(tail_lines=2), START)) == ["line 3", "line 4"]
    assert select(LINES, LogOptions(tail_lines=99), START) == LINES


def test_tail_lines_zero_selects_nothing() -> None:
    assert select(LINES, LogOptions(tail_lines=0), START) == []


def test_tail_and_since_together_keep_the_last_recent_lines() -> None:
    now = START + timedelta(seconds=45)
    assert texts(select(LINES, LogOptions(tail_lines=1, since_seconds=30), now)) == ["line 4"]
    assert texts(select(LINES, LogOptions(tail_lines=5, since_seconds=20), now)) == ["line 3", "line 4"]


def test_a_line_renders_as_its_text() -> None:
    assert render(LogLine(MOMENT, "stderr", "oops"), LogOptions()) == b"oops\n"


def test_with_timestamps_a_line_renders_with_its_time_first() -> None:
    assert render(LogLine(MOMENT, "stdout", "ok"), LogOptions(timestamps=True)) == (
        b"2026-11-25T10:00:05.123456000Z ok\n")


def test_render_encodes_utf8() -> None:
    assert render(LogLine(MOMENT, "stdout", "✓"), LogOptions()) == "✓\n".encode()


def test_without_limit_every_chunk_is_sent() -> None:
    assert limit([b"one\n", b"two\n"], None) == [b"one\n", b"two\n"]


def test_limit_bytes_cuts_the_answer() -> None:
    assert limit([b"hello\n", b"world\n"], 8) == [b"hello\n", b"wo"]
    assert limit([b"hello\n", b"world\n"], 6) == [b"hello\n"]
    assert limit([b"hello\n", b"world\n"], 3) == [b"hel"]
    assert limit([b"hello\n", b"world\n"], 100) == [b"hello\n", b"world\n"]
