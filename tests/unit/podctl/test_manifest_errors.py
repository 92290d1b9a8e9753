"""Bad manifests given to podctl: one line naming the file (and the document of a multi-document
file), exit status 1, no traceback, and nothing sent to the server (none is listening here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from podctl.__main__ import run

GOOD_POD = (
    "apiVersion: v1\nkind: Pod\nmetadata: {name: ok}\n"
    "spec: {containers: [{name: c, image: busybox}]}\n"
)

CASES = {
    "malformed-yaml": (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a\n",
        "error: error parsing {f}: error parsing YAML at line 4, column 1",
    ),
    "unknown-kind": (
        "apiVersion: v1\nkind: Widget\nmetadata: {name: w}\n",
        'error: resource mapping not found for name: "w" namespace: "" from "{f}": '
        'no matches for kind "Widget" in version "v1"',
    ),
    "apps-v2-deployment": (
        "apiVersion: apps/v2\nkind: Deployment\nmetadata: {name: d}\n",
        'no matches for kind "Deployment" in version "apps/v2" (expected apiVersion "apps/v1")',
    ),
    "v1-job": (
        "apiVersion: v1\nkind: Job\nmetadata: {name: j}\n",
        'no matches for kind "Job" in version "v1" (expected apiVersion "batch/v1")',
    ),
    "no-apiversion": (
        "kind: Pod\nmetadata: {name: x}\n",
        'error: error validating "{f}": apiVersion: Required value',
    ),
    "not-a-mapping": (
        "- a\n- b\n",
        'error: error validating "{f}": a manifest must be an object '
        "with apiVersion and kind, got array",
    ),
    "a-scalar": ("just a string\n", "got string"),
    "empty-file": ("", "error: no objects passed to apply"),
    "only-separators": ("---\n---\n", "error: no objects passed to apply"),
    "wrong-type": (
        GOOD_POD.replace("image: busybox", "image: busybox, tty: yes-please"),
        'error: error validating "{f}": spec.containers[0].tty: expected boolean, got string',
    ),
    "deep-nesting": (
        "a: " + "[" * 3000 + "]" * 3000 + "\n",
        "error: error parsing {f}: error parsing YAML: the document is nested too deeply",
    ),
    "mixed-documents": (
        GOOD_POD + "---\n" + GOOD_POD.replace("image:", "imagePullPolcy: x, image:"),
        'error: error validating "{f}" (document 2): '
        'unknown field "spec.containers[0].imagePullPolcy"',
    ),
}


@pytest.mark.parametrize("text,expected", list(CASES.values()), ids=list(CASES))
def test_bad_manifest_is_one_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str
) -> None:
    path = tmp_path / "manifest.yaml"
    path.write_text(text)
    code = run(["apply", "-f", str(path), "--server", "127.0.0.1:1"])
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert expected.format(f=path) in err, err


def test_a_missing_file_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.yaml"
    assert run(["apply", "-f", str(missing), "--server", "127.0.0.1:1"]) == 1
    assert capsys.readouterr().err == f'error: the path "{missing}" does not exist\n'


def test_a_file_that_is_not_text_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"\xff\xfe\x00")
    assert run(["apply", "-f", str(path), "--server", "127.0.0.1:1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: error reading {path}: ") and err.count("\n") == 1
