"""The token subresource (kubernetes pkg/registry/core/serviceaccount/storage/token.go): POST
serviceaccounts/<name>/token with an authentication.k8s.io/v1 TokenRequest answers it with a signed
token for the account, for the audiences asked (the API's by default), valid for
spec.expirationSeconds (3600 by default, at least 600), and bound to the Pod, Secret or Node
spec.boundObjectRef names, which must exist with that uid. Both doors call TokenRequests.create;
nothing is stored."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc

from apiserver import errors
from apiserver.admission.node_restriction import NodeRestriction
from apiserver.auth.serviceaccount import claims as sa_claims
from apiserver.auth.serviceaccount.claims import Bound, Ref
from apiserver.auth.serviceaccount.issuer import TokenIssuer
from apiserver.registry.resource import ResourceAPI
from apiserver.registry.served import ServedResources
from apiserver.validation.fields import FieldError, invalid, invalid_error
from podplane.api.authentication.v1 import token_request_pb2
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import timeutil

GROUP = "authentication.k8s.io"
API_VERSION = f"{GROUP}/v1"
KIND = "TokenRequest"
# SetDefaults_TokenRequestSpec, and ValidateTokenRequest's bounds.
DEFAULT_EXPIRATION_SECONDS = 3600
MIN_EXPIRATION_SECONDS = 600
MAX_EXPIRATION_SECONDS = 1 << 32


def validate(request: token_request_pb2.TokenRequest) -> list[FieldError]:
    """ValidateTokenRequest."""
    seconds = request.spec.expiration_seconds
    if seconds < MIN_EXPIRATION_SECONDS:
        return [
            invalid(
                "spec.expirationSeconds", seconds, "may not specify a duration less than 10 minutes"
            )
        ]
    if seconds > MAX_EXPIRATION_SECONDS:
        return [
            invalid(
                "spec.expirationSeconds",
                seconds,
                "may not specify a duration larger than 2^32 seconds",
            )
        ]
    return []


def _gvk(api_version: str, kind: str) -> tuple[str, str]:
    """schema.FromAPIVersionAndKind: the group ("" for v1) and how the kind is shown."""
    group, _, version = api_version.rpartition("/")
    return group, f"{group}/{version}, Kind={kind}"


class TokenRequests:
    """The token subresource over the registry's service accounts, pods, secrets and nodes."""

    def __init__(self, issuer: TokenIssuer, apis: ServedResources) -> None:
        self.issuer = issuer
        self.accounts: ResourceAPI[core_pb2.ServiceAccount] = apis["serviceaccounts"]
        self.pods: ResourceAPI[core_pb2.Pod] = apis["pods"]
        self.secrets: ResourceAPI[core_pb2.Secret] = apis["secrets"]
        self.nodes: ResourceAPI[core_pb2.Node] = apis["nodes"]

    async def create(
        self, namespace: str, name: str, request: token_request_pb2.TokenRequest
    ) -> token_request_pb2.TokenRequest:
        """A token for the service account <namespace>/<name>; the answer is the request with
        its metadata, defaults and status filled in."""
        out = token_request_pb2.TokenRequest()
        out.CopyFrom(request)
        meta = out.metadata
        for path, given, wanted, what in (
            ("metadata.name", meta.name, name, "name"),
            ("metadata.namespace", meta.namespace, namespace, "namespace"),
        ):
            if given and given != wanted:
                detail = f"must match the service account {what} if specified"
                raise invalid_error(KIND, name, [invalid(path, given, detail)], GROUP)
        account = await self.accounts.get(namespace, name)
        spec = out.spec
        if not spec.audiences:
            spec.audiences.extend(self.issuer.api_audiences)
        if not spec.HasField("expiration_seconds"):
            spec.expiration_seconds = DEFAULT_EXPIRATION_SECONDS
        meta.name, meta.namespace = account.metadata.name, account.metadata.namespace
        now = int(self.issuer.clock())
        meta.creation_timestamp = timeutil.format_time(datetime.fromtimestamp(now, UTC))
        out.ClearField("status")
        errs = validate(out)
        if errs:
            raise invalid_error(KIND, "", errs, GROUP)
        # Admission, as the create of a stored kind: a kubelet's token must be bound to its pod.
        await NodeRestriction().admit_token_request(
            name, out, lambda pod: self.pods.get(namespace, pod)
        )
        bound = Bound()
        if spec.HasField("bound_object_ref"):
            bound = await self._bound(namespace, name, spec)
        claims = sa_claims.new_claims(
            issuer=self.issuer.issuer,
            namespace=namespace,
            account=Ref(account.metadata.name, account.metadata.uid),
            audiences=list(spec.audiences),
            issued_at=now,
            expiration_seconds=spec.expiration_seconds,
            bound=bound,
        )
        out.api_version, out.kind = API_VERSION, KIND
        out.status.token = self.issuer.sign(claims)
        out.status.expiration_timestamp = timeutil.format_time(
            datetime.fromtimestamp(now + spec.expiration_seconds, UTC)
        )
        return out

    async def _bound(
        self, namespace: str, account: str, spec: token_request_pb2.TokenRequestSpec
    ) -> Bound:
        ref = spec.bound_object_ref
        group, shown = _gvk(ref.api_version, ref.kind)
        if group == "" and ref.kind == "Pod":
            pod = await self.pods.get(namespace, ref.name)
            if pod.spec.service_account_name != account:
                raise errors.bad_request(
                    f'cannot bind token for serviceaccount "{account}" to pod running with '
                    "different serviceaccount name."
                )
            uid = pod.metadata.uid
            node = None
            if pod.spec.node_name:  # the node is named even when it is gone, without its uid
                found = self.nodes.reads.peek("", pod.spec.node_name)
                node = Ref(pod.spec.node_name, found.metadata.uid if found else "")
            bound = Bound(pod=Ref(pod.metadata.name, uid), node=node)
        elif group == "" and ref.kind == "Node":
            node_obj = await self.nodes.get("", ref.name)
            uid = node_obj.metadata.uid
            bound = Bound(node=Ref(node_obj.metadata.name, uid))
        elif group == "" and ref.kind == "Secret":
            secret = await self.secrets.get(namespace, ref.name)
            uid = secret.metadata.uid
            bound = Bound(secret=Ref(secret.metadata.name, uid))
        else:
            raise errors.bad_request(f"cannot bind token to object of type {shown}")
        if ref.uid and ref.uid != uid:
            raise errors.APIError(
                grpc.StatusCode.ABORTED,
                "Conflict",
                f'Operation cannot be fulfilled on {ref.kind} "{ref.name}": the UID in the bound '
                f"object reference ({ref.uid}) does not match the UID in record. The object "
                "might have been deleted and then recreated",
                errors.Details(name=ref.name, group=group, kind=ref.kind),
            )
        return bound
