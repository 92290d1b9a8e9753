"""Where a benchmark's result goes: a JSON file (indented, keys sorted, its folder made)."""

from __future__ import annotations

import json
import os

from podplane.apimachinery.json_types import JSONObject


def write_json(path: str, result: JSONObject) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(result, f, indent=2, sort_keys=True)
        f.write("\n")
