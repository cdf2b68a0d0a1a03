"""Data expectations on the raw tables a plan reads: written from the profile the plan was
built on, validated by SQL inside the warehouse."""
