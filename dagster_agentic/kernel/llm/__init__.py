"""The model kernel: a language model, reached through litellm, decides inside hard budgets."""
