"""Derivative rules: the registry and the rule tables, one per family."""
