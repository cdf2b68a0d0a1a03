"""Features from the entity's own timestamps, with or without a cutoff column.

* **The prediction time itself** (an event entity's own time used as the cutoff, see
  ``prediction_time.py``): its calendar, hour of day (for times of day), weekday and month:
  a flight at 18:00 on a Friday is late more often than one at 07:00 on a Tuesday.
* **Another timestamp, under a cutoff**: time since it at the prediction time (tenure), and its
  month and weekday.
* **No cutoff**: only the entity's event time and the times it began (``signup_date``) are
  read, since any other time may have been written with the outcome (``closed_at``). The age
  is measured to ``s.cutoff_at`` when a spine gives one (entities scored now) and otherwise to
  the latest value of the column in the profile, a fixed time, so training rows stay
  reproducible.
"""

from __future__ import annotations

from dagster_agentic.goals.objective import Objective
from dagster_agentic.kernel.policy.aggregates import slug
from dagster_agentic.kernel.policy.prediction_time import is_origin_time
from dagster_agentic.plan.models import FeatureSpec
from dagster_agentic.warehouse.connection import literal, quote_ident
from dagster_agentic.warehouse.models import ColumnProfile, TableProfile


def entity_time_features(
    objective: Objective, entity: TableProfile, column: ColumnProfile, role: str
) -> list[FeatureSpec]:
    """Time features of one temporal column of the entity (``role`` is its semantic role)."""
    col = f"t.{quote_ident(column.name)}"
    is_cutoff = entity.name == objective.label_table and column.name == objective.cutoff_column
    if is_cutoff:
        return calendar_features(column, col, hours=True)
    if role not in ("timestamp", "event_time"):
        return []
    if objective.cutoff_column:
        return _age(column, col, "s.cutoff_at") + calendar_features(column, col, hours=False)
    if role != "event_time" and not is_origin_time(column.name):
        return []
    if not isinstance(column.max, str):
        return calendar_features(column, col, hours=role == "event_time")
    as_of = f"COALESCE(s.cutoff_at, CAST({literal(column.max)} AS TIMESTAMP))"
    return _age(column, col, as_of) + calendar_features(column, col, hours=role == "event_time")


def _age(column: ColumnProfile, col: str, reference: str) -> list[FeatureSpec]:
    return [
        FeatureSpec(
            name=f"days_since_{slug(column.name)}",
            expression=f"date_diff('day', CAST({col} AS TIMESTAMP), {reference})",
            hypothesis=f"time since {column.name} (e.g. tenure) at prediction time matters",
        )
    ]


def calendar_features(column: ColumnProfile, col: str, *, hours: bool) -> list[FeatureSpec]:
    """Month and weekday of a time, and its hour where the type holds a time of day."""
    ts = f"CAST({col} AS TIMESTAMP)"
    features = [
        FeatureSpec(
            name=f"{slug(column.name)}_month",
            expression=f"month({ts})",
            hypothesis=f"the month of {column.name} (seasonal cohorts) matters",
        ),
        FeatureSpec(
            name=f"{slug(column.name)}_weekday",
            expression=f"dayofweek({ts})",
            hypothesis=f"the weekday of {column.name} reflects how the entity came in",
        ),
    ]
    if hours and column.data_type.upper().startswith("TIMESTAMP"):
        features.append(
            FeatureSpec(
                name=f"{slug(column.name)}_hour",
                expression=f"hour({ts})",
                hypothesis=f"the hour of day of {column.name} matters (rush hours, late slots)",
            )
        )
    return features
