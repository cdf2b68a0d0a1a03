"""The offline policy kernel: deterministic rules that interpret a goal without an LLM."""
