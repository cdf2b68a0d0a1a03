"""Reproducible benchmarks of dagster-agentic: ``make bench-features`` runs ``bench.features``,
``make bench-healing`` runs ``bench.healing``."""

import os

# Nothing may reach the internet; set before dagster_agentic, dagster, dbt or litellm read them.
for _name, _value in {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "DAGSTER_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
}.items():
    os.environ.setdefault(_name, _value)
