"""The training label as SQL, one encoding per task, shared by every query that reads it.

The training set, the screening and the schema analysis must agree on what a row's label is
and which rows have one, or the screening would score a different target from the one the
model is trained on. The encoding (see :class:`~dagster_agentic.goals.objective.Objective`):

* **binary**: 1 where the target equals ``positive_value``, else 0; rows without a target are
  left out;
* **multiclass**: the index of the target's value in ``classes`` (a ``CASE`` over literal
  values, so the order is the model's class order); rows whose value is not a class are left
  out, not lumped into an "other" class the objective never named;
* **regression**: the target read as a DOUBLE; rows where it is NULL, NaN or infinite are left
  out (a non-finite target has no error a metric could measure).

Values enter the SQL only through :func:`literal`, names only through :func:`quote_ident`.
"""

from __future__ import annotations

from dagster_agentic.goals.objective import Objective
from dagster_agentic.warehouse.connection import literal


def label_sql(objective: Objective, target: str) -> str:
    """The label of a row whose (already quoted) target expression is ``target``."""
    if objective.task == "regression":
        return f"CAST({target} AS DOUBLE)"
    if objective.task == "multiclass_classification":
        whens = " ".join(
            f"WHEN {target} = {literal(value)} THEN {index}"
            for index, value in enumerate(objective.classes)
        )
        return f"CASE {whens} END"
    return f"CASE WHEN {target} = {literal(objective.positive_value)} THEN 1 ELSE 0 END"


def labelled_sql(objective: Objective, target: str) -> str:
    """A predicate true on exactly the rows that have a label under ``objective``'s task."""
    if objective.task == "regression":
        return f"{target} IS NOT NULL AND isfinite(CAST({target} AS DOUBLE))"
    if objective.task == "multiclass_classification":
        values = ", ".join(literal(value) for value in objective.classes)
        return f"{target} IN ({values})"
    return f"{target} IS NOT NULL"


def class_names(objective: Objective) -> tuple[str, ...]:
    """Each label value's name, in label order (empty for regression)."""
    if objective.task == "regression":
        return ()
    if objective.task == "multiclass_classification":
        return tuple(str(value) for value in objective.classes)
    return (f"not {objective.positive_value}", str(objective.positive_value))


def class_count(objective: Objective) -> int:
    """Distinct label values the task allows: 2 (binary), len(classes), 0 for regression."""
    return len(class_names(objective))
