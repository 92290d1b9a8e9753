"""Validation of API objects: each kind's rules, reported as field errors with their paths."""
