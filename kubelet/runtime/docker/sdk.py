"""The Docker SDK (docker-py), imported by name. The repository's docker/ folder (Dockerfiles) is a
namespace package named `docker` as far as mypy is concerned and would shadow the SDK's (untyped)
modules; at run time the installed SDK, a regular package, always wins."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

sdk: ModuleType = importlib.import_module("docker")
errors: ModuleType = importlib.import_module("docker.errors")
utils: ModuleType = importlib.import_module("docker.utils")
APIClient = Any  # docker.APIClient, untyped
