"""The model kernel: a language model, through litellm, takes the kernel's decisions."""
