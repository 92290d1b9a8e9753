"""podctl: kubectl's verbs and output for podplane (apply, create, get, describe, delete, logs)."""
