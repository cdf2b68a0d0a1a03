"""Self-healing: gather evidence about failed raw-table expectations and diagnose a cause."""
