"""Shapes that are free-form by nature, named once. Process data, form schemas, event details and
DMN results are whatever a model or a user wrote: the engine reads them by key and checks what it
reads (engine/forms, engine/team.py), so their values stay `Any` here rather than a made-up type.
What the engine itself decides the shape of has a real type where it lives (ElementInfo of the
catalog, TeamMember, the views)."""

from typing import Any, TypeAlias

#: A JSON object: process variables, a form schema or a component of one, an event's details.
JsonObject: TypeAlias = dict[str, Any]
