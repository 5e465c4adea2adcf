"""Per-module analysis shared by the rule families."""
