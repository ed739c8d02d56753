from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

import api.types
from api.registry import BUILTIN, Registry
from api.schema import own_type_schema, schema_for
from controlplane.fieldvalidation import unknown_fields
from controlplane.openapi import openapi_v3_group_version
from controlplane.printers import table
from controlplane.registry import status_strategy_for, strategy_for
from tests.widget import WIDGET


@pytest.fixture
def widget_served(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(api.types, "OWN_TYPES", (WIDGET,))
    schema_for.cache_clear()
    yield
    schema_for.cache_clear()


def widget(**spec: object) -> dict:
    return {"apiVersion": "test.canopy.dev/v1alpha1", "kind": "Widget",
            "metadata": {"name": "w", "namespace": "default"}, "spec": spec}


def test_schema_describes_spec_fields_in_camel_case() -> None:
    schema = own_type_schema(WIDGET)
    spec = schema.child("spec")
    assert spec is not None and spec.child("replicas") is not None
    replicas = spec.child("replicas")
    assert replicas is not None and (replicas.kind, replicas.description) == ("integer", "How many widgets to make.")
    assert spec.child("ownerTeam") is not None and spec.child("owner_team") is None
    parts = spec.child("parts")
    assert parts is not None and parts.kind == "array" and parts.items is not None
    assert parts.items.child("count") is not None


def test_unknown_fields_are_found_against_the_model() -> None:
    assert unknown_fields(widget(replicaz=2), own_type_schema(WIDGET)) == ['unknown field "spec.replicaz"']


def test_defaults_come_from_the_model(widget_served: None) -> None:
    obj = widget(parts=[{"name": "bolt"}])
    strategy_for("test.canopy.dev", "Widget").prepare_for_create(obj)
    assert obj["spec"] == {"replicas": 1, "size": "M", "parts": [{"name": "bolt", "count": 1}]}
    assert obj["metadata"]["generation"] == 1


def test_validation_errors_name_the_field_in_kubernetes_wording(widget_served: None) -> None:
    causes = strategy_for("test.canopy.dev", "Widget").validate(widget(replicas=-1, size="XL", parts=[{}]))
    by_field = {c.field: c for c in causes}
    assert by_field["spec.replicas"].message.startswith("Invalid value: -1: input should be greater than or equal")
    assert by_field["spec.size"].type == "FieldValueNotSupported"
    assert by_field["spec.parts[0].name"].message == "Required value"


def test_strict_types_a_string_is_not_an_integer(widget_served: None) -> None:
    causes = strategy_for("test.canopy.dev", "Widget").validate(widget(replicas="2"))
    assert [c.field for c in causes] == ["spec.replicas"]


def test_status_writes_are_validated_against_the_status_model(widget_served: None) -> None:
    old = widget(replicas=1)
    new = {**widget(replicas=5), "status": {"phase": 3}}
    strategy = status_strategy_for("test.canopy.dev", "Widget")
    strategy.prepare_for_update(new, old)
    assert new["spec"] == {"replicas": 1}
    assert [c.field for c in strategy.validate_update(new, old)] == ["status.phase"]


def test_table_shows_the_declared_columns(widget_served: None) -> None:
    obj = {**widget(size="L", replicas=2), "status": {"phase": "Ready"}}
    obj["metadata"]["creationTimestamp"] = "2026-01-01T00:00:00Z"
    result = table(WIDGET.resource, [obj], now=datetime(2026, 1, 1, 0, 5, tzinfo=UTC))
    assert [c["name"] for c in result["columnDefinitions"]] == ["Name", "Size", "Replicas", "Phase", "Age"]
    assert result["rows"][0]["cells"] == ["w", "L", 2, "Ready", "5m"]


def test_openapi_documents_the_own_type(widget_served: None) -> None:
    registry = Registry([*BUILTIN, WIDGET.resource])
    doc = openapi_v3_group_version(registry, "test.canopy.dev", "v1alpha1")
    assert doc is not None
    schemas = doc["components"]["schemas"]
    widget_schema = next(s for name, s in schemas.items() if name.endswith(".Widget"))
    assert "spec" in widget_schema["properties"]
