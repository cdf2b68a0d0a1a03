"""The YAML schema of ``GoalComponent``, derived from the goal's own pydantic models.

The goal's models (``goals/spec.py``, ``goals/kernel_spec.py``) are the one source of truth for
field names, defaults, bounds and descriptions. Dagster builds a component's YAML schema only
from types it can write as JSON, so each nested model is copied here with the few types YAML
cannot hold (a datetime, a tuple) turned into their YAML form; unknown keys are refused, so
``dg check yaml`` names a misspelt key. The goal's validators still run when the component
loads (``goal_from_attributes``), with their own messages and fixes.
"""

# No `from __future__ import annotations`: Dagster reads these annotations at run time.
import types
from datetime import datetime
from functools import cache
from typing import Any, Union, get_args, get_origin

import dagster as dg
from pydantic import BaseModel, ConfigDict, create_model
from pydantic.fields import FieldInfo

from dagster_agentic.goals.spec import Goal, GoalOverrides


def _yaml_type(annotation: Any) -> Any:
    """The annotation as YAML writes it: datetimes as ISO 8601 text, tuples as lists."""
    if annotation is datetime:
        return str
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return list[_yaml_type(args[0])]  # type: ignore[misc]
    if origin in (Union, types.UnionType):
        members = tuple(_yaml_type(arg) for arg in args)
        return Union[members]  # noqa: UP007
    return annotation


@cache
def yaml_model(model: type[BaseModel]) -> type[BaseModel]:
    """``model``'s fields, with their defaults, bounds and descriptions, in YAML's types."""
    fields: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        copied = FieldInfo.merge_field_infos(info)
        copied.annotation = _yaml_type(info.annotation)
        fields[name] = (copied.annotation, copied)
    return create_model(
        model.__name__,
        __config__=ConfigDict(extra="forbid", title=model.__name__),
        __doc__=model.__doc__,
        **fields,
    )


def described(name: str) -> str:
    """The description of a goal field, from ``Goal`` or ``GoalOverrides``."""
    for model in (Goal, GoalOverrides):
        info = model.model_fields.get(name)
        if info is not None and info.description:
            return info.description
    raise KeyError(f"no description for the goal field {name!r}")


def Described(name: str) -> dg.Resolver:
    """A plain field, with the goal field's description in the YAML schema."""
    return dg.Resolver.default(description=described(name))


def _to_mapping(context: dg.ResolutionContext, value: Any) -> Any:
    """A nested block as a plain mapping (templates rendered): the goal validates it."""
    if isinstance(value, BaseModel):
        return context.resolve_value(value.model_dump(exclude_unset=True))
    return value


def Nested(model: type[BaseModel], name: str, *, text: bool = False) -> dg.Resolver:
    """A nested block typed by ``model``'s YAML copy; ``text``: a plain string is allowed too."""
    field_type: Any = yaml_model(model) | None
    if text:
        field_type = yaml_model(model) | str | None
    return dg.Resolver(_to_mapping, model_field_type=field_type, description=described(name))
