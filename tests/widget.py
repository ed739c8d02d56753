"""A test-only own type, declared the way api/types declares Canopy's: Widget (test.canopy.dev/v1alpha1)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from api.registry import ResourceType
from api.types import Column, Model, OwnType


class Part(Model):
    name: str = Field(description="Name of the part.")
    count: int = Field(1, ge=1, description="How many of it.")


class WidgetSpec(Model):
    """A Widget is a thing made of parts."""

    replicas: int = Field(1, ge=0, description="How many widgets to make.")
    size: Literal["S", "M", "L"] = Field("M", description="The widget's size.")
    parts: list[Part] = Field(default_factory=list, description="What it is made of.")
    owner_team: str | None = Field(None, description="Who owns it.")


class WidgetStatus(Model):
    phase: str = Field("", description="Where it is in its life.")


WIDGET = OwnType(
    ResourceType("test.canopy.dev", "v1alpha1", "Widget", "widgets", True, ("wd",)),
    spec=WidgetSpec,
    status=WidgetStatus,
    columns=(
        Column("Size", "string", "spec.size", "The widget's size."),
        Column("Replicas", "integer", "spec.replicas", "How many."),
        Column("Phase", "string", "status.phase", "Where it is.", 1),
    ),
)
