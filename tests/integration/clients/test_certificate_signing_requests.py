"""Certificate signing requests end to end on the real apiserver over real etcd, with the real
kubectl and the official Python client: a request made with a real key is created, listed with
Kubernetes' columns and its requestor filled in by the server, approved or denied with `kubectl
certificate`, signed with the cluster CA by the csrsigning controller (running in this process
as the controller-manager's identity), refused to a user who may write approvals but not
approve for the signer, and auto-approved by the csrapproving controller for a bootstrap user
bound to the nodeclient role. `kubectl explain` prints the schema."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
import yaml
from cryptography import x509
from kubernetes import client as k8s

from controller.certificates.approver import CSRApprovingController
from controller.certificates.authority import CertificateAuthority
from controller.certificates.signer import CSRSigningController
from podplane.api.authorization.v1 import authorization_pb2
from podplane.client.clientset import Client
from podplane.client.informer_factory import SharedInformerFactory
from tests.integration.rest_cluster import RestCluster, in_thread, rest_cluster
from tests.pki_support import cert_credentials
from tests.support import EtcdProcess, eventually
from tests.x509_requests import new_key, request_pem

CLIENT = "kubernetes.io/kube-apiserver-client"
KUBELET_CLIENT = "kubernetes.io/kube-apiserver-client-kubelet"
NODE_CLIENT_ROLE = "system:certificates.k8s.io:certificatesigningrequests:nodeclient"


@pytest_asyncio.fixture(scope="module")
async def cluster(
    etcd: EtcdProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RestCluster]:
    async with rest_cluster(etcd, tmp_path_factory.mktemp("csr")) as c:
        yield c


@pytest_asyncio.fixture(scope="module")
async def controllers(cluster: RestCluster) -> AsyncIterator[None]:
    """csrsigning (the cluster CA of the test PKI) and csrapproving, as the controller-manager
    runs them: with its client certificate, so the bootstrap policy's certificate-controller
    role is what lets them read, approve and sign."""
    client = Client(
        f"127.0.0.1:{cluster.server.port}",
        timeout=10,
        credentials=cert_credentials(cluster.pki, "controller-manager"),
    )
    authority = CertificateAuthority.load(str(cluster.pki / "ca.crt"), str(cluster.pki / "ca.key"))
    signing = CSRSigningController(client, SharedInformerFactory(client), authority)
    approving = CSRApprovingController(client, SharedInformerFactory(client))
    tasks = [asyncio.ensure_future(signing.run()), asyncio.ensure_future(approving.run())]
    try:
        yield
    finally:
        for t in tasks:
            if t.done() and not t.cancelled() and t.exception() is not None:
                raise AssertionError(f"a controller crashed: {t.exception()!r}")
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await client.close()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def csr_manifest(
    name: str,
    pem: bytes,
    *,
    signer: str = CLIENT,
    usages: tuple[str, ...] = ("client auth",),
    **spec: Any,
) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "certificates.k8s.io/v1",
            "kind": "CertificateSigningRequest",
            "metadata": {"name": name},
            "spec": {
                "request": base64.b64encode(pem).decode(),
                "signerName": signer,
                "usages": list(usages),
                **spec,
            },
        }
    )


def columns(line: str) -> list[str]:
    return re.split(r"\s{2,}", line.strip())


async def create(cluster: RestCluster, manifest: str, *, as_user: str | None = None) -> str:
    impersonate = (f"--as={as_user}",) if as_user else ()
    return await cluster.kubectl_ok(*impersonate, "create", "-f", "-", stdin=manifest)


async def get_row(cluster: RestCluster, name: str) -> dict[str, str]:
    header, row = (await cluster.kubectl_ok("get", "csr", name)).splitlines()
    return dict(zip(columns(header), columns(row), strict=True))


async def condition_becomes(cluster: RestCluster, name: str, wanted: str) -> dict[str, str]:
    async def check() -> dict[str, str] | None:
        row = await get_row(cluster, name)
        return row if row["CONDITION"] == wanted else None

    return await eventually(check, timeout=20, what=f"csr {name} to be {wanted}")


async def until_allowed(cluster: RestCluster, user: str, *args: str) -> None:
    """Until `kubectl auth can-i ARGS` answers yes for `user`: the authorizer sees RBAC objects
    through its watch cache, a moment after they are written, as Kubernetes' informers do."""

    async def yes() -> bool:
        return (await cluster.kubectl("auth", "can-i", f"--as={user}", *args)).out == "yes\n"

    await eventually(yes, timeout=20, what=f"{user} allowed to {' '.join(args)}")


async def until_signer_approver(cluster: RestCluster, user: str, signer: str) -> None:
    """Until a SubjectAccessReview says `user` may approve for `signer` (kubectl auth can-i
    cannot ask it: it sends a resource its discovery does not list without its group)."""
    review = authorization_pb2.SubjectAccessReview(
        spec=authorization_pb2.SubjectAccessReviewSpec(
            user=user,
            groups=["system:authenticated"],
            resource_attributes=authorization_pb2.ResourceAttributes(
                group="certificates.k8s.io", resource="signers", name=signer, verb="approve"
            ),
        )
    )

    async def yes() -> bool:
        return (await cluster.grpc.create_subject_access_review(review)).status.allowed

    await eventually(yes, timeout=20, what=f"{user} allowed to approve for {signer}")


async def read(cluster: RestCluster, name: str) -> Any:
    """The request as the official client's CertificatesV1Api reads it."""
    api = k8s.CertificatesV1Api(cluster.api_client())
    return await in_thread(api.read_certificate_signing_request, name)


async def test_created_with_kubectl_and_listed_with_kubernetes_columns(
    cluster: RestCluster,
) -> None:
    name = unique("alice")
    manifest = csr_manifest(
        name,
        request_pem("alice", ("developers",)),
        expirationSeconds=86400,
        # What the client says about itself is replaced with who it is.
        username="mallory",
        groups=["system:masters"],
    )
    created = await create(cluster, manifest)
    assert created == f"certificatesigningrequest.certificates.k8s.io/{name} created\n"

    row = await get_row(cluster, name)
    assert list(row) == [
        "NAME",
        "AGE",
        "SIGNERNAME",
        "REQUESTOR",
        "REQUESTEDDURATION",
        "CONDITION",
    ]
    assert row["NAME"] == name
    assert row["SIGNERNAME"] == CLIENT
    assert row["REQUESTOR"] == "kubernetes-admin"
    assert row["REQUESTEDDURATION"] == "24h"
    assert row["CONDITION"] == "Pending"

    csr = await read(cluster, name)
    assert csr.spec.username == "kubernetes-admin"
    assert "system:masters" in csr.spec.groups and "system:authenticated" in csr.spec.groups
    assert csr.spec.usages == ["client auth"]
    assert csr.status.conditions is None and csr.status.certificate is None
    # As Kubernetes writes it: an empty status is still there.
    assert json.loads(await cluster.kubectl_ok("get", "csr", name, "-o", "json"))["status"] == {}


async def test_approved_with_kubectl_and_issued_by_the_cluster_ca(
    cluster: RestCluster, controllers: None
) -> None:
    name = unique("bob")
    key = new_key()
    await create(cluster, csr_manifest(name, request_pem("bob", ("team-a",), key=key)))

    approved = await cluster.kubectl_ok("certificate", "approve", name)
    assert approved == f"certificatesigningrequest.certificates.k8s.io/{name} approved\n"

    row = await condition_becomes(cluster, name, "Approved,Issued")
    assert row["REQUESTOR"] == "kubernetes-admin"
    csr = await read(cluster, name)
    approval = next(c for c in csr.status.conditions if c.type == "Approved")
    assert (approval.status, approval.reason) == ("True", "KubectlApprove")
    assert approval.message == "This CSR was approved by kubectl certificate approve."
    assert approval.last_update_time and approval.last_transition_time

    # The official client decodes the certificate's base64: a PEM CERTIFICATE block.
    certificate = x509.load_pem_x509_certificate(base64.b64decode(csr.status.certificate))
    authority = x509.load_pem_x509_certificate((cluster.pki / "ca.crt").read_bytes())
    certificate.verify_directly_issued_by(authority)
    assert certificate.subject.rfc4514_string() == "CN=bob,O=team-a"
    assert certificate.public_key() == key.public_key()
    usages = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert [u.dotted_string for u in usages] == ["1.3.6.1.5.5.7.3.2"]  # client auth

    # Approving again is a no-op kubectl reports as such.
    again = await cluster.kubectl_ok("certificate", "approve", name)
    assert again == f"certificatesigningrequest.certificates.k8s.io/{name} approved\n"


async def test_denied_with_kubectl_is_never_signed(cluster: RestCluster, controllers: None) -> None:
    name = unique("carol")
    await create(cluster, csr_manifest(name, request_pem("carol")))

    denied = await cluster.kubectl_ok("certificate", "deny", name)
    assert denied == f"certificatesigningrequest.certificates.k8s.io/{name} denied\n"
    # A request approved after the denial: once the signer has issued it, it has passed over the
    # denied one (its informer delivers changes in order, its one worker takes keys in turn).
    later = unique("later")
    await create(cluster, csr_manifest(later, request_pem("later")))
    await cluster.kubectl_ok("certificate", "approve", later)
    await condition_becomes(cluster, later, "Approved,Issued")

    assert (await get_row(cluster, name))["CONDITION"] == "Denied"
    csr = await read(cluster, name)
    assert csr.status.certificate is None
    denial = next(c for c in csr.status.conditions if c.type == "Denied")
    assert (denial.status, denial.reason) == ("True", "KubectlDeny")

    # A decided request is not decided again the other way.
    ran = await cluster.kubectl("certificate", "approve", name)
    assert ran.code == 1
    assert ran.err == (f'error: certificate signing request "{name}" is already Denied\n')


APPROVAL_ONLY_ROLE = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: csr-approval-writer
rules:
- apiGroups: [certificates.k8s.io]
  resources: [certificatesigningrequests]
  verbs: [get, list, watch]
- apiGroups: [certificates.k8s.io]
  resources: [certificatesigningrequests/approval]
  verbs: [update]
"""

SIGNER_APPROVER_ROLE = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: client-signer-approver
rules:
- apiGroups: [certificates.k8s.io]
  resources: [signers]
  resourceNames: [kubernetes.io/kube-apiserver-client]
  verbs: [approve]
"""


async def test_approving_needs_the_approve_verb_on_the_signer(
    cluster: RestCluster, controllers: None
) -> None:
    await cluster.kubectl_ok("apply", "-f", "-", stdin=APPROVAL_ONLY_ROLE)
    await cluster.kubectl_ok(
        "create",
        "clusterrolebinding",
        "dave-approval-writer",
        "--clusterrole=csr-approval-writer",
        "--user=dave",
    )
    await until_allowed(
        cluster, "dave", "update", "certificatesigningrequests", "--subresource=approval"
    )
    name = unique("erin")
    await create(cluster, csr_manifest(name, request_pem("erin")))

    ran = await cluster.kubectl("--as=dave", "certificate", "approve", name)
    assert ran.code == 1
    assert ran.out == ""
    assert ran.err == (
        "Error from server (Forbidden): certificatesigningrequests.certificates.k8s.io "
        f'"{name}" is forbidden: user not permitted to approve requests with signerName '
        f'"{CLIENT}"\n'
    )
    assert (await get_row(cluster, name))["CONDITION"] == "Pending"

    # Without the approval subresource at all, RBAC itself refuses (Kubernetes' text).
    ran = await cluster.kubectl("--as=frank", "certificate", "approve", name)
    assert ran.code == 1
    assert ran.err == (
        'Error from server (Forbidden): certificatesigningrequests.certificates.k8s.io "'
        f'{name}" is forbidden: User "frank" cannot get resource "certificatesigningrequests" '
        'in API group "certificates.k8s.io" at the cluster scope\n'
    )

    # Granted `approve` on that signer, the same user approves and the signer issues.
    await cluster.kubectl_ok("apply", "-f", "-", stdin=SIGNER_APPROVER_ROLE)
    await cluster.kubectl_ok(
        "create",
        "clusterrolebinding",
        "dave-client-signer-approver",
        "--clusterrole=client-signer-approver",
        "--user=dave",
    )
    await until_signer_approver(cluster, "dave", CLIENT)
    approved = await cluster.kubectl_ok("--as=dave", "certificate", "approve", name)
    assert approved == f"certificatesigningrequest.certificates.k8s.io/{name} approved\n"
    await condition_becomes(cluster, name, "Approved,Issued")


def node_client_request(node: str) -> str:
    return csr_manifest(
        unique(f"node-csr-{node}"),
        request_pem(f"system:node:{node}", ("system:nodes",)),
        signer=KUBELET_CLIENT,
        usages=("digital signature", "key encipherment", "client auth"),
    )


def csr_name(created: str) -> str:
    prefix = "certificatesigningrequest.certificates.k8s.io/"
    assert created.startswith(prefix) and created.endswith(" created\n"), created
    return created.removeprefix(prefix).removesuffix(" created\n")


async def test_node_client_requests_of_a_nodeclient_user_are_auto_approved(
    cluster: RestCluster, controllers: None
) -> None:
    # Both bootstrap users may create requests; only one may have node client certificates.
    for user in ("bootstrap-1", "stranger"):
        await cluster.kubectl_ok(
            "create",
            "clusterrolebinding",
            f"{user}-node-bootstrapper",
            "--clusterrole=system:node-bootstrapper",
            f"--user={user}",
        )
    await cluster.kubectl_ok(
        "create",
        "clusterrolebinding",
        "bootstrap-1-nodeclient",
        f"--clusterrole={NODE_CLIENT_ROLE}",
        "--user=bootstrap-1",
    )
    # The approver's SubjectAccessReview is not asked again: its answer must be the final one.
    for user in ("bootstrap-1", "stranger"):
        await until_allowed(cluster, user, "create", "certificatesigningrequests")
    await until_allowed(
        cluster, "bootstrap-1", "create", "certificatesigningrequests", "--subresource=nodeclient"
    )
    refused = csr_name(await create(cluster, node_client_request("n9"), as_user="stranger"))
    allowed = csr_name(await create(cluster, node_client_request("n7"), as_user="bootstrap-1"))

    row = await condition_becomes(cluster, allowed, "Approved,Issued")
    assert row["SIGNERNAME"] == KUBELET_CLIENT
    assert row["REQUESTOR"] == "bootstrap-1"
    csr = await read(cluster, allowed)
    approval = next(c for c in csr.status.conditions if c.type == "Approved")
    assert (approval.status, approval.reason) == ("True", "AutoApproved")
    assert approval.message == (
        "Auto approving kubelet client certificate after SubjectAccessReview."
    )
    # The controller sends no times: the server stamps them.
    assert approval.last_update_time and approval.last_transition_time
    certificate = x509.load_pem_x509_certificate(base64.b64decode(csr.status.certificate))
    assert certificate.subject.rfc4514_string() == "CN=system:node:n7,O=system:nodes"

    # The stranger's request came first on the same queue: it was looked at and left alone.
    row = await get_row(cluster, refused)
    assert (row["REQUESTOR"], row["CONDITION"]) == ("stranger", "Pending")


async def test_explain_prints_the_schema(cluster: RestCluster) -> None:
    out = await cluster.kubectl_ok("explain", "csr.spec")
    lines = out.splitlines()
    assert lines[:3] == [
        "GROUP:      certificates.k8s.io",
        "KIND:       CertificateSigningRequest",
        "VERSION:    v1",
    ]
    assert "FIELD: spec <CertificateSigningRequestSpec>" in lines
    # A field's line: two spaces, its name, a tab, its type (its description is indented more).
    fields = dict(line.strip().split("\t") for line in lines if re.match(r"  \w+\t", line))
    assert list(fields) == [
        "expirationSeconds",
        "extra",
        "groups",
        "request",
        "signerName",
        "uid",
        "usages",
        "username",
    ]
    assert fields["request"] == "<string> -required-"
    assert fields["signerName"] == "<string> -required-"
    assert fields["usages"] == "<[]string>"
    assert fields["expirationSeconds"] == "<integer>"
    assert fields["username"] == "<string>"
    assert fields["extra"] == "<map[string][]string>"
    assert "signerName indicates the requested signer" in out
