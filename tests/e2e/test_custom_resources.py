"""Custom resources on the compose cluster with the real kubectl, as Kubernetes' documentation
walks through them (tasks/extend-kubernetes/custom-resources): apply a CustomResourceDefinition
and wait until it is established, apply an object of its kind, read it with the definition's
printer columns, explain its schema's descriptions, scale it; an invalid object is refused with
the schema's field path and message, a typo with --validate=strict; deleting the definition
deletes its objects (a definition of the same name made again finds none); server-side apply
creates and updates an object, a second manager conflicts. Only the API: nothing here runs a
container."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator

import pytest

from tests.e2e.kubectl import Kubectl

GROUP = f"e2e{secrets.token_hex(3)}.example.com"
CRD = f"""\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.{GROUP}
spec:
  group: {GROUP}
  scope: Namespaced
  names:
    plural: crontabs
    singular: crontab
    kind: CronTab
    shortNames: [ct]
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            description: What runs and when.
            required: [cronSpec]
            properties:
              cronSpec:
                type: string
                description: When it runs, in cron syntax.
              image:
                type: string
              replicas:
                type: integer
                minimum: 0
                maximum: 10
                default: 1
          status:
            type: object
            properties:
              replicas:
                type: integer
    subresources:
      status: {{}}
      scale:
        specReplicasPath: .spec.replicas
        statusReplicasPath: .status.replicas
    additionalPrinterColumns:
    - name: Spec
      type: string
      jsonPath: .spec.cronSpec
    - name: Replicas
      type: integer
      jsonPath: .spec.replicas
    - name: Age
      type: date
      jsonPath: .metadata.creationTimestamp
"""
CRONTAB = f"""\
apiVersion: {GROUP}/v1
kind: CronTab
metadata:
  name: my-new-cron-object
spec:
  cronSpec: "* * * * */5"
  image: my-awesome-cron-image
"""


def columns(line: str) -> list[str]:
    return re.split(r"\s{2,}", line.strip())


def define(cluster: Kubectl, crd: str, name: str, verb: str = "created") -> None:
    """Applies a definition and waits until its kind is served."""
    assert cluster.ok("apply", "-f", "-", stdin=crd) == (
        f"customresourcedefinition.apiextensions.k8s.io/{name} {verb}\n"
    )
    cluster.ok("wait", "--for=condition=established", f"crd/{name}", "--timeout=30s")


def unserved(cluster: Kubectl, path: str, timeout: float = 10) -> None:
    """Waits until `path` answers NotFound (the apiserver stops serving a deleted kind as the
    deletion reaches it)."""
    deadline = time.monotonic() + timeout
    while (got := cluster.run("get", "--raw", path)).code == 0 or "NotFound" not in got.err:
        assert time.monotonic() < deadline, f"{path} still served: {got}"
        time.sleep(0.5)


@pytest.fixture(scope="module")
def k(kubectl_namespace: str) -> Iterator[Kubectl]:
    cluster = Kubectl()
    define(cluster, CRD, f"crontabs.{GROUP}")
    yield Kubectl(kubectl_namespace)
    cluster.run("delete", "crd", f"crontabs.{GROUP}", "--wait=false")


def test_apply_get_with_printer_columns_explain_and_scale(k: Kubectl) -> None:
    assert k.ok("apply", "-f", "-", stdin=CRONTAB) == (
        f"crontab.{GROUP}/my-new-cron-object created\n"
    )
    header, row = k.ok("get", f"crontabs.{GROUP}").splitlines()
    assert columns(header) == ["NAME", "SPEC", "REPLICAS", "AGE"]
    # replicas is the schema's default.
    assert columns(row)[:3] == ["my-new-cron-object", "* * * * */5", "1"]

    explained = k.ok("explain", "crontabs.spec", f"--api-version={GROUP}/v1")
    assert "KIND:       CronTab" in explained
    assert "What runs and when." in explained
    assert "cronSpec\t<string> -required-" in explained
    assert "When it runs, in cron syntax." in explained

    assert k.ok("scale", f"ct.{GROUP}/my-new-cron-object", "--replicas=3") == (
        f"crontab.{GROUP}/my-new-cron-object scaled\n"
    )
    replicas = k.ok("get", f"ct.{GROUP}", "my-new-cron-object", "-o", "jsonpath={.spec.replicas}")
    assert replicas == "3"


def test_an_invalid_object_is_refused_with_the_schemas_field_path(k: Kubectl) -> None:
    too_many = CRONTAB.replace("my-new-cron-object", "too-many") + "  replicas: 20\n"
    refused = k.run("apply", "-f", "-", stdin=too_many)
    assert refused.code == 1
    assert refused.err.strip() == (
        'The CronTab "too-many" is invalid: spec.replicas: Invalid value: 20: spec.replicas in '
        "body should be less than or equal to 10"
    )
    no_schedule = CRONTAB.replace("my-new-cron-object", "no-schedule").replace(
        '  cronSpec: "* * * * */5"\n', ""
    )
    refused = k.run("apply", "-f", "-", stdin=no_schedule)
    assert refused.code == 1
    assert 'The CronTab "no-schedule" is invalid: spec.cronSpec: Required value' in refused.err
    typo = CRONTAB.replace("image:", "imagee:")
    refused = k.run("apply", "--validate=strict", "-f", "-", stdin=typo)
    assert refused.code == 1
    assert 'strict decoding error: unknown field "spec.imagee"' in refused.err
    for name in ("too-many", "no-schedule"):
        assert k.run("get", f"ct.{GROUP}", name).code == 1


def test_deleting_the_definition_deletes_its_objects(kubectl_namespace: str) -> None:
    group = f"gone{secrets.token_hex(3)}.example.com"
    name = f"crontabs.{group}"
    cluster, k = Kubectl(), Kubectl(kubectl_namespace)
    define(cluster, CRD.replace(GROUP, group), name)
    k.ok("apply", "-f", "-", stdin=CRONTAB.replace(GROUP, group))
    # kubectl waits until the definition is gone, after its objects.
    assert cluster.ok("delete", "crd", name, "--timeout=60s") == (
        f'customresourcedefinition.apiextensions.k8s.io "{name}" deleted\n'
    )
    unserved(cluster, f"/apis/{group}/v1/crontabs")
    # The same definition again serves the kind again, without the objects of the first.
    define(cluster, CRD.replace(GROUP, group), name)
    empty = k.run("get", name)
    assert (empty.code, empty.out) == (0, "")
    assert empty.err == f"No resources found in {kubectl_namespace} namespace.\n"
    cluster.run("delete", "crd", name, "--wait=false")


def test_server_side_apply_creates_updates_and_reports_conflicts(k: Kubectl) -> None:
    """`kubectl apply --server-side` of a custom object, as of a Deployment: created, updated,
    a second manager's conflict as kubectl prints it, --force-conflicts, both managers shown."""
    applied = CRONTAB.replace("my-new-cron-object", "applied")
    assert k.ok("apply", "--server-side", "-f", "-", stdin=applied) == (
        f"crontab.{GROUP}/applied serverside-applied\n"
    )
    k.ok("apply", "--server-side", "-f", "-", stdin=applied + "  replicas: 2\n")
    assert k.ok("get", f"ct.{GROUP}", "applied", "-o", "jsonpath={.spec.replicas}") == "2"

    other = applied.replace("my-awesome-cron-image", "other-image")
    refused = k.run("apply", "--server-side", "--field-manager=other", "-f", "-", stdin=other)
    assert refused.code == 1
    assert refused.err.startswith(
        'error: Apply failed with 1 conflict: conflict with "kubectl": .spec.image\n'
    ), refused
    k.ok(
        "apply",
        "--server-side",
        "--field-manager=other",
        "--force-conflicts",
        "-f",
        "-",
        stdin=other,
    )
    shown = k.ok("get", f"ct.{GROUP}", "applied", "-o", "yaml", "--show-managed-fields")
    assert "manager: kubectl\n" in shown and "manager: other\n" in shown
    assert "image: other-image\n" in shown
