"""/openapi/v2 as kubectl 1.32 fetches it: gnostic protobuf, read by `explain --output=plaintext-openapiv2`."""

from __future__ import annotations

import json
import re
import urllib.request

from tests.conftest import ApiServer, Kubectl

PROTOBUF_ACCEPT = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"


def fetch(apiserver: ApiServer, accept: str) -> tuple[str, bytes]:
    request = urllib.request.Request(f"{apiserver.url}/openapi/v2", headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=30, context=apiserver.admin_tls) as response:
        return response.headers["Content-Type"], response.read()


def test_explain_plaintext_openapiv2_prints_the_field_description(kubectl: Kubectl) -> None:
    out = kubectl("explain", "--output=plaintext-openapiv2", "deployment.spec.replicas")
    assert re.search(r"^KIND:\s+Deployment$", out, re.M), out
    assert re.search(r"^FIELD:\s+replicas <integer>$", out, re.M), out
    assert "Number of desired pods." in out


def test_explain_plaintext_openapiv2_follows_references_into_the_pod_template(kubectl: Kubectl) -> None:
    out = kubectl("explain", "--output=plaintext-openapiv2", "deployment.spec.template.spec.containers")
    assert re.search(r"^RESOURCE:\s+containers <\[\]Object>$", out, re.M), out
    assert re.search(r"^\s+image\t<string>$", out, re.M), out


def test_protobuf_is_served_to_kubectls_accept_header(apiserver: ApiServer) -> None:
    content_type, body = fetch(apiserver, PROTOBUF_ACCEPT)
    assert content_type == "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
    assert body.startswith(b"\x0a\x032.0")  # field 1 (swagger), length 3, "2.0"


def test_json_is_still_the_default(apiserver: ApiServer) -> None:
    for accept in ("", "application/json", f"application/json, {PROTOBUF_ACCEPT}"):
        content_type, body = fetch(apiserver, accept)
        assert content_type.startswith("application/json"), accept
        assert json.loads(body)["swagger"] == "2.0"
