"""Name/key formats and the Go-style rendering of field errors (controlplane.registry.formats / .field)."""

from __future__ import annotations

import pytest

from controlplane.registry import field as f
from controlplane.registry.formats import (
    is_config_map_key,
    is_dns1035_label,
    is_dns1123_label,
    is_dns1123_subdomain,
    is_env_var_name,
    is_qualified_name,
    is_valid_ip,
    is_valid_label_value,
    is_valid_percent,
    is_valid_port_name,
    name_is_dns_subdomain,
    name_is_path_segment,
    regex_error,
)

SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start "
    "and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)


def test_subdomain_message_is_verbatim() -> None:
    assert is_dns1123_subdomain("Bad_Name") == [SUBDOMAIN_MSG]
    assert is_dns1123_subdomain("web.example.com") == []


def test_subdomain_reports_length_and_format_separately() -> None:
    errs = is_dns1123_subdomain("A" * 254)
    assert errs[0] == "must be no more than 253 characters"
    assert errs[1] == SUBDOMAIN_MSG


def test_regex_error_keeps_the_double_space_before_or() -> None:
    assert regex_error("m", "re", "a", "b") == "m (e.g. 'a',  or 'b', regex used for validation is 're')"
    assert regex_error("m", "re") == "m (regex used for validation is 're')"


def test_dns_label_and_dns1035_label() -> None:
    assert is_dns1123_label("123-abc") == []
    assert "e.g. 'my-name',  or '123-abc'" in is_dns1123_label("a.b")[0]
    assert is_dns1123_label("a" * 64) == [
        "must be no more than 63 characters",
    ]
    assert is_dns1035_label("1svc")[0].startswith("a DNS-1035 label must consist of lower case alphanumeric")
    assert is_dns1035_label("svc-1") == []


def test_generate_name_prefix_may_end_with_a_dash() -> None:
    assert name_is_dns_subdomain("web-", True) == []
    assert name_is_dns_subdomain("web-", False) == [SUBDOMAIN_MSG]


@pytest.mark.parametrize(
    ("key", "problems"),
    [
        ("app", []),
        ("example.com/app", []),
        ("app.kubernetes.io/name", []),
        ("/app", ["prefix part must be non-empty"]),
        ("example.com/", ["name part must be non-empty", "name part must consist of alphanumeric characters"]),
        ("a/b/c", ["a qualified name must consist of alphanumeric characters"]),
        ("-app", ["name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end"]),
        ("Example.com/app", ["prefix part a lowercase RFC 1123 subdomain"]),
    ],
)
def test_qualified_names(key: str, problems: list[str]) -> None:
    errs = is_qualified_name(key)
    assert len(errs) == len(problems)
    for err, expected in zip(errs, problems, strict=True):
        assert err.startswith(expected)


def test_qualified_name_with_three_parts_has_the_full_hint() -> None:
    assert is_qualified_name("a/b/c") == [
        "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
        "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
        "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. "
        "'example.com/MyName')"
    ]


def test_label_values() -> None:
    assert is_valid_label_value("") == []
    assert is_valid_label_value("v1.2_x") == []
    assert is_valid_label_value("a" * 64)[0] == "must be no more than 63 characters"
    assert is_valid_label_value("bad value")[0].startswith("a valid label must be an empty string")


def test_config_keys() -> None:
    assert is_config_map_key("key.name") == []
    assert is_config_map_key("..") == ["must not be '..'"]
    assert is_config_map_key("..x") == ["must not start with '..'"]
    assert is_config_map_key("a b")[0].startswith("a valid config key must consist of alphanumeric characters")


def test_port_names_list_every_problem() -> None:
    assert is_valid_port_name("http") == []
    assert is_valid_port_name("-80--") == [
        "must contain at least one letter (a-z)",
        "must not contain consecutive hyphens",
        "must not begin or end with a hyphen",
    ]
    assert is_valid_port_name("a-very-long-port-name")[0] == "must be no more than 15 characters"


def test_percent_env_names_path_segments_and_ips() -> None:
    assert is_valid_percent("25%") == []
    assert is_valid_percent("25")[0].startswith("a valid percent string must be a numeric string")
    assert is_env_var_name("MY:VAR.1") == []
    assert is_env_var_name("A=B") == [
        "a valid environment variable name must consist only of printable ASCII characters other than '='"
    ]
    assert name_is_path_segment("..", False) == ["may not be '..'"]
    assert name_is_path_segment("a/b%", False) == ["may not contain '/'", "may not contain '%'"]
    assert is_valid_ip("010.0.0.1") == []
    assert is_valid_ip("10.0.0.256") == ["must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"]


def test_go_value_rendering() -> None:
    assert f.go_value('a"b\n') == '"a\\"b\\n"'
    assert f.go_value(True) == "true"
    assert f.go_value(None) == "null"
    assert f.go_value(-1) == "-1"
    assert f.go_value(2.5) == "2.5"
    assert f.go_value(1e16) == "10000000000000000"
    assert f.go_value(1e21) == "1e+21"
    assert f.go_string_map({"b": "2", "a": "1"}) == 'map[string]string{"a":"1", "b":"2"}'
    assert f.go_string_map(None) == "map[string]string(nil)"
    assert f.go_string_slice(["x"]) == '[]string{"x"}'
    assert f.go_int_or_string(0) == 'intstr.IntOrString{Type:0, IntVal:0, StrVal:""}'
    assert f.go_int_or_string("25%") == 'intstr.IntOrString{Type:1, IntVal:0, StrVal:"25%"}'


def test_label_selector_rendering() -> None:
    assert f.go_label_selector({"matchLabels": {"app": "x"}}) == (
        'v1.LabelSelector{MatchLabels:map[string]string{"app":"x"}, '
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}"
    )
    rendered = f.go_label_selector({"matchExpressions": [{"key": "k", "operator": "In", "values": ["a"]}]})
    assert rendered == (
        "v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement{"
        'v1.LabelSelectorRequirement{Key:"k", Operator:"In", Values:[]string{"a"}}}}'
    )


def test_cause_constructors() -> None:
    assert f.required("spec.x").message == "Required value"
    assert f.required("spec.x", "why").message == "Required value: why"
    cause = f.not_supported("spec.type", "Foo", ("A", "B"))
    assert (cause.field, cause.type) == ("spec.type", "FieldValueNotSupported")
    assert cause.message == 'Unsupported value: "Foo": supported values: "A", "B"'
    assert f.invalid("a", 3, "bad").message == "Invalid value: 3: bad"
    assert f.duplicate("a", "x").message == 'Duplicate value: "x"'
    assert f.forbidden("a", "no").message == "Forbidden: no"
    assert f.not_found("a", "v").message == 'Not found: "v"'
    assert f.too_long("", 10).message == "Too long: must have at most 10 bytes"
    assert f.key(f.child("spec", "data"), "a b") == "spec.data[a b]"
    assert f.index(f.child("", "containers"), 2) == "containers[2]"
