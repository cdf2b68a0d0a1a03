"""The example Dagster project for dagster-agentic: a churn warehouse in DuckDB."""
