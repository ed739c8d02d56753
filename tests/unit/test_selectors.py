"""Label and field selectors: matching semantics and kube-apiserver's exact error text."""

from __future__ import annotations

import pytest

from controlplane.errors import StatusError
from controlplane.selectors import (
    Operator,
    Requirement,
    format_labels,
    from_label_selector_object,
    go_quote,
    label_value_errors,
    parse_field_selector,
    parse_label_selector,
    qualified_name_errors,
)

QUALIFIED_NAME_RULE = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
LABEL_VALUE_RULE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used "
    "for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)


def label_error(text: str) -> str:
    with pytest.raises(StatusError) as caught:
        parse_label_selector(text)
    assert caught.value.code == 400
    assert caught.value.reason == "BadRequest"
    return caught.value.message


def field_error(text: str, kind: str) -> str:
    with pytest.raises(StatusError) as caught:
        parse_field_selector(text, kind)
    assert caught.value.code == 400
    return caught.value.message


# ---------------------------------------------------------------------------------------------- label matching


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ("", {}, True),
        ("", {"a": "b"}, True),
        ("app=web", {"app": "web"}, True),
        ("app=web", {"app": "db"}, False),
        ("app=web", {}, False),
        ("app==web", {"app": "web"}, True),
        ("app!=web", {"app": "db"}, True),
        ("app!=web", {}, True),
        ("app!=web", {"app": "web"}, False),
        ("env in (prod,staging)", {"env": "staging"}, True),
        ("env in (prod,staging)", {"env": "dev"}, False),
        ("env in (prod,staging)", {}, False),
        ("env notin (prod)", {"env": "dev"}, True),
        ("env notin (prod)", {}, True),
        ("env notin (prod)", {"env": "prod"}, False),
        ("tier", {"tier": ""}, True),
        ("tier", {"app": "x"}, False),
        ("!tier", {"app": "x"}, True),
        ("!tier", {"tier": "x"}, False),
        ("a=", {"a": ""}, True),
        ("a=", {"a": "x"}, False),
        ("a=", {}, False),
        ("x in (,b)", {"x": ""}, True),
        ("x in ()", {"x": ""}, True),
        ("x in ()", {"x": "a"}, False),
        ("replicas>2", {"replicas": "3"}, True),
        ("replicas>2", {"replicas": "2"}, False),
        ("replicas>2", {"replicas": "many"}, False),
        ("replicas>2", {}, False),
        ("replicas<2", {"replicas": "1"}, True),
        ("app=web,tier", {"app": "web", "tier": "fe"}, True),
        ("app=web,tier", {"app": "web"}, False),
        ("app=web,!canary,env notin (dev)", {"app": "web", "env": "prod"}, True),
        ("example.com/team=core", {"example.com/team": "core"}, True),
    ],
)
def test_label_selector_matching(selector: str, labels: dict[str, str], expected: bool) -> None:
    assert parse_label_selector(selector).matches(labels) is expected


def test_whitespace_is_insignificant_between_tokens() -> None:
    spaced = parse_label_selector("  app = web ,\tenv in ( prod , dev ) ,  ! canary ")
    assert spaced == parse_label_selector("app=web,env in (prod,dev),!canary")
    assert spaced.matches({"app": "web", "env": "dev"})


def test_keywords_are_plain_values_where_a_value_is_expected() -> None:
    selector = parse_label_selector("in in (in,notin),notin=in")
    assert selector.requirements == (
        Requirement("in", Operator.IN, ("in", "notin")),
        Requirement("notin", Operator.EQUALS, ("in",)),
    )
    assert selector.matches({"in": "notin", "notin": "in"})


def test_requirements_are_sorted_by_key_and_printed_like_kubernetes() -> None:
    selector = parse_label_selector("z notin (b,a),!y,x,w==1,v!=2,u in (c),t>5,s<9,r=3")
    assert str(selector) == "r=3,s<9,t>5,u in (c),v!=2,w==1,x,!y,z notin (a,b)"


def test_none_labels_are_an_empty_label_set() -> None:
    assert parse_label_selector("!a").matches(None)
    assert not parse_label_selector("a").matches(None)


# ---------------------------------------------------------------------------------------------- label errors


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ("a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"),
        ("a!b", "unable to parse requirement: found '!', expected: in, notin, =, ==, !=, gt, lt"),
        ("a,", "found '', expected: identifier after ','"),
        ("a,,b", "found ',', expected: identifier after ','"),
        (",a", "found ',', expected: !, identifier, or 'end of string'"),
        ("=a", "found '=', expected: !, identifier, or 'end of string'"),
        ("a=b c", "found 'c', expected: ',' or 'end of string'"),
        ("!a=b", "found '=', expected: ',' or 'end of string'"),
        ("a=(b)", "unable to parse requirement: found '(', expected: identifier"),
        ("a in b", "unable to parse requirement: found 'b' expected: '('"),
        ("a in in", "unable to parse requirement: found 'in' expected: '('"),
        ("a in (b", "unable to parse requirement: found '', expected: ',' or ')'"),
        ("a in (b c)", "unable to parse requirement: found 'c', expected: ',' or ')'"),
        ("a in (=)", "unable to parse requirement: found '=', expected: ',', ')' or identifier"),
        ("a in (b,=)", "unable to parse requirement: found '=', expected: ',', or identifier"),
        ("! =a", "unable to parse requirement: found '=', expected: identifier"),
        ("!=a", "found '!=', expected: !, identifier, or 'end of string'"),
        ("a>b", "unable to parse requirement: values[0]: Invalid value: \"b\": for 'Gt', 'Lt' operators, "
                "the value must be an integer"),
    ],
)
def test_label_syntax_errors_match_kube_apiserver(selector: str, message: str) -> None:
    assert label_error(selector) == message


def test_invalid_key_is_reported_against_a_nil_path() -> None:
    assert label_error("foo@bar=1") == (
        f'unable to parse requirement: <nil>: Invalid value: "foo@bar": {QUALIFIED_NAME_RULE}'
    )


def test_invalid_value_is_reported_against_its_index_and_key() -> None:
    assert label_error("app=-web") == (
        f'unable to parse requirement: values[0][app]: Invalid value: "-web": {LABEL_VALUE_RULE}'
    )


def test_several_invalid_values_are_aggregated_in_sorted_order() -> None:
    message = label_error("app in (z_, _a)")
    assert message == (
        "unable to parse requirement: ["
        f'values[0][app]: Invalid value: "_a": {LABEL_VALUE_RULE}, '
        f'values[1][app]: Invalid value: "z_": {LABEL_VALUE_RULE}]'
    )


def test_key_validation_rules() -> None:
    assert qualified_name_errors("example.com/app") == []
    assert qualified_name_errors("a" * 63) == []
    assert qualified_name_errors("a" * 64) == ["name part must be no more than 63 characters"]
    assert qualified_name_errors("/app") == ["prefix part must be non-empty"]
    assert qualified_name_errors("app/") == ["name part must be non-empty", QUALIFIED_NAME_RULE]
    assert qualified_name_errors("Example.com/app")[0].startswith(
        "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters"
    )
    assert qualified_name_errors("a/b/c")[0].startswith("a qualified name must consist of")
    assert qualified_name_errors("a/b/c")[0].endswith(
        "with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
    )


def test_value_validation_rules() -> None:
    assert label_value_errors("") == []
    assert label_value_errors("v1.2_rc-3") == []
    assert label_value_errors("x" * 64) == ["must be no more than 63 characters"]
    assert label_value_errors("bad value") == [LABEL_VALUE_RULE]


def test_go_quote_escapes_like_go() -> None:
    assert go_quote('a"b\\c') == '"a\\"b\\\\c"'
    assert go_quote("tab\there\n") == '"tab\\there\\n"'
    assert go_quote("\x01é") == '"\\x01é"'


# ------------------------------------------------------------------------------------- metav1.LabelSelector


def test_selector_object_combines_match_labels_and_expressions() -> None:
    selector = from_label_selector_object(
        {
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "env", "operator": "In", "values": ["prod", "staging"]},
                {"key": "track", "operator": "NotIn", "values": ["canary"]},
                {"key": "team", "operator": "Exists"},
                {"key": "legacy", "operator": "DoesNotExist"},
            ],
        }
    )
    assert selector.matches({"app": "web", "env": "prod", "team": "a"})
    assert not selector.matches({"app": "web", "env": "prod", "team": "a", "legacy": "1"})
    assert not selector.matches({"app": "web", "env": "prod", "team": "a", "track": "canary"})
    assert not selector.matches({"app": "web", "env": "dev", "team": "a"})
    assert str(selector) == "app=web,env in (prod,staging),!legacy,team,track notin (canary)"


def test_missing_selector_matches_nothing_and_empty_matches_everything() -> None:
    assert not from_label_selector_object(None).matches({"app": "web"})
    assert not from_label_selector_object(None).matches({})
    assert from_label_selector_object({}).matches({"anything": "x"})
    assert from_label_selector_object({"matchLabels": {}, "matchExpressions": []}).empty


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]},
         '"Gt" is not a valid label selector operator'),
        ({"matchExpressions": [{"key": "a", "operator": "In"}]},
         "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty"),
        ({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x", "y"]}]},
         'values: Invalid value: []string{"x", "y"}: values set must be empty for exists and does not exist'),
        ({"matchLabels": {"bad key": "x"}}, f'key: Invalid value: "bad key": {QUALIFIED_NAME_RULE}'),
        ({"matchLabels": {"app": "no spaces"}}, f'values[0][app]: Invalid value: "no spaces": {LABEL_VALUE_RULE}'),
    ],
)
def test_invalid_selector_objects(selector: dict, message: str) -> None:
    with pytest.raises(StatusError) as caught:
        from_label_selector_object(selector)
    assert caught.value.code == 400
    assert caught.value.message == message


def test_format_labels() -> None:
    assert format_labels({"b": "2", "a": "1"}) == "a=1,b=2"
    assert format_labels({}) == "<none>"
    assert format_labels(None) == "<none>"


# ---------------------------------------------------------------------------------------------- field selectors


def pod(**status: object) -> dict:
    return {
        "metadata": {"name": "web-1", "namespace": "shop"},
        "spec": {"nodeName": "node-a", "restartPolicy": "Always", "schedulerName": "default-scheduler",
                 "serviceAccountName": "default"},
        "status": {"phase": "Running", "podIP": "10.0.0.7", "podIPs": [{"ip": "10.0.0.7"}], **status},
    }


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("", True),
        ("metadata.name=web-1", True),
        ("metadata.name==web-1", True),
        ("metadata.name!=web-1", False),
        ("metadata.namespace=shop,status.phase=Running", True),
        ("metadata.namespace=shop,status.phase!=Running", False),
        ("spec.nodeName=node-a", True),
        ("spec.host=node-a", True),
        ("spec.nodeName=", False),
        ("spec.restartPolicy=Always,spec.schedulerName=default-scheduler", True),
        ("spec.serviceAccountName=default", True),
        ("spec.hostNetwork=false", True),
        ("spec.hostNetwork=true", False),
        ("status.podIP=10.0.0.7", True),
        ("status.nominatedNodeName=", True),
        ("status.nominatedNodeName!=", False),
    ],
)
def test_pod_field_selectors(selector: str, expected: bool) -> None:
    assert parse_field_selector(selector, "Pod").matches(pod()) is expected


def test_host_network_pod() -> None:
    host = pod()
    host["spec"]["hostNetwork"] = True
    assert parse_field_selector("spec.hostNetwork=true", "Pod").matches(host)


def test_pod_ip_falls_back_to_the_singular_field() -> None:
    legacy = pod()
    del legacy["status"]["podIPs"]
    assert parse_field_selector("status.podIP=10.0.0.7", "Pod").matches(legacy)


def test_event_fields_and_source_fallback() -> None:
    event = {
        "metadata": {"name": "web.1", "namespace": "shop"},
        "involvedObject": {"kind": "Pod", "name": "web", "namespace": "shop", "uid": "u-1", "fieldPath": "spec"},
        "reason": "BackOff",
        "type": "Warning",
        "reportingComponent": "kubelet",
        "source": {},
    }
    assert parse_field_selector(
        "involvedObject.kind=Pod,involvedObject.name=web,involvedObject.uid=u-1,type=Warning,reason=BackOff",
        "Event",
    ).matches(event)
    assert parse_field_selector("source=kubelet,reportingComponent=kubelet", "Event").matches(event)
    event["source"] = {"component": "scheduler"}
    assert parse_field_selector("source=scheduler", "Event").matches(event)
    assert not parse_field_selector("source=kubelet", "Event").matches(event)


def test_other_kind_fields() -> None:
    secret = {"metadata": {"name": "tls", "namespace": "a"}, "type": "kubernetes.io/tls"}
    assert parse_field_selector("type=kubernetes.io/tls", "Secret").matches(secret)
    namespace = {"metadata": {"name": "a"}, "status": {"phase": "Terminating"}}
    assert parse_field_selector("status.phase=Terminating", "Namespace").matches(namespace)
    replica_set = {"metadata": {"name": "rs"}, "status": {"replicas": 3}}
    assert parse_field_selector("status.replicas=3", "ReplicaSet").matches(replica_set)
    assert parse_field_selector("status.replicas=0", "ReplicaSet").matches({"metadata": {"name": "rs"}})
    service = {"metadata": {"name": "svc"}, "spec": {"type": "NodePort", "clusterIP": "10.96.0.9"}}
    assert parse_field_selector("spec.type=NodePort,spec.clusterIP=10.96.0.9", "Service").matches(service)
    config_map = {"metadata": {"name": "cfg", "namespace": "a"}}
    assert parse_field_selector("metadata.name=cfg,metadata.namespace=a", "ConfigMap").matches(config_map)


@pytest.mark.parametrize(
    ("selector", "kind", "message"),
    [
        ("foo=bar", "Pod", "field label not supported: foo"),
        ("spec.containers=x", "Pod", "field label not supported: spec.containers"),
        ("source=x,foo=bar", "Event", "field label not supported: foo"),
        ("metadata.namespace=a", "Namespace", "field label not supported: metadata.namespace"),
        ("data=x", "Secret", "field label not supported: data"),
        ("status.phase=Running", "ConfigMap",
         '"status.phase" is not a known field selector: only "metadata.name", "metadata.namespace"'),
        ("spec.replicas=1", "Deployment",
         '"spec.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"'),
        ("spec.replicas=1", "ReplicaSet",
         '"spec.replicas" is not a known field selector: only "metadata.name", "metadata.namespace"'),
        ("status.phase = Running", "Pod", "field label not supported: status.phase "),
        ("metadata.name", "Pod", "invalid selector: 'metadata.name'; can't understand 'metadata.name'"),
        ("b=1,a", "Pod", "invalid selector: 'b=1,a'; can't understand 'a'"),
        ("metadata.name=a=b", "Pod", "invalid field selector: unescaped character in value: 61"),
        ("metadata.name=a\\x", "Pod", "invalid field selector: invalid escape sequence: \\x"),
        ("metadata.name=a\\", "Pod", "invalid field selector: invalid escape sequence: \\"),
    ],
)
def test_field_selector_errors(selector: str, kind: str, message: str) -> None:
    assert field_error(selector, kind) == message


def test_field_errors_follow_sorted_term_order() -> None:
    assert field_error("zeta=1,alpha=2", "Pod") == "field label not supported: alpha"


def test_escaped_values() -> None:
    selector = parse_field_selector(r"metadata.name=a\,b\=c\\d", "ConfigMap")
    assert selector.matches({"metadata": {"name": "a,b=c\\d"}})
    assert str(selector) == "metadata.name=a,b=c\\d"


def test_double_equals_is_not_read_as_equals_followed_by_a_value() -> None:
    assert parse_field_selector("metadata.name==x", "Pod").matches({"metadata": {"name": "x"}})
    assert parse_field_selector("metadata.name!=", "Pod").matches({"metadata": {"name": "x"}})


def test_empty_terms_are_skipped() -> None:
    selector = parse_field_selector(",metadata.name=x,,", "Pod")
    assert len(selector.requirements) == 1
    assert parse_field_selector("", "Pod").empty
