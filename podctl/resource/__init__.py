"""The objects a command acts on: named on its command line or in -f manifests (kubectl's
cli-runtime resource builder), their names and plain-dict form, what apply makes of them, and
waiting for deleted ones to be gone."""
