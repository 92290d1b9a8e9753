"""projected volumes (pkg/volume/projected): the files of several sources in one directory:
service account tokens bound to the pod (from the token manager), keys of config maps and secrets,
and downwardAPI files. A source that fails does not stop the others from being read; the volume
is written only when every one succeeded."""

from __future__ import annotations

from collections.abc import Mapping

from kubelet.container.env import ConfigObjects
from kubelet.token.manager import TokenError, TokenManager
from kubelet.volume.downward_api import downward_api_payload
from kubelet.volume.projection import DEFAULT_MODE, FileProjection, ProjectionError, make_payload
from podplane.api.authentication.v1 import token_request_pb2
from podplane.api.core.v1 import core_pb2


def token_request(
    pod: core_pb2.Pod, source: core_pb2.ServiceAccountTokenProjection
) -> token_request_pb2.TokenRequest:
    """What the kubelet asks for: the audience given (else the apiserver's), the expiry, bound
    to the pod by name and uid."""
    request = token_request_pb2.TokenRequest()
    if source.audience:
        request.spec.audiences.append(source.audience)
    if source.HasField("expiration_seconds"):
        request.spec.expiration_seconds = source.expiration_seconds
    ref = request.spec.bound_object_ref
    ref.api_version, ref.kind = "v1", "Pod"
    ref.name, ref.uid = pod.metadata.name, pod.metadata.uid
    return request


async def projected_payload(
    pod: core_pb2.Pod,
    volume: core_pb2.Volume,
    objects: ConfigObjects,
    tokens: TokenManager | None,
    node_allocatable: Mapping[str, str],
) -> dict[str, FileProjection]:
    """Path -> content and mode of every source's files; ProjectionError with every failure."""
    source = volume.projected
    mode = source.default_mode if source.HasField("default_mode") else DEFAULT_MODE
    payload: dict[str, FileProjection] = {}
    failures: list[str] = []
    for s in source.sources:
        try:
            if s.HasField("service_account_token"):
                if tokens is None:
                    raise ProjectionError("this kubelet has no token manager")
                account = pod.spec.service_account_name or "default"
                request = token_request(pod, s.service_account_token)
                try:
                    tr = await tokens.service_account_token(
                        pod.metadata.namespace, account, request
                    )
                except TokenError as e:
                    raise ProjectionError(str(e)) from e
                payload[s.service_account_token.path] = FileProjection(
                    tr.status.token.encode(), mode
                )
            elif s.HasField("config_map"):
                ref = s.config_map
                cm = objects.config_maps.get(ref.name)
                if cm is None and not ref.optional:
                    raise ProjectionError(f'configmap "{ref.name}" not found')
                data = (
                    {**dict(cm.binary_data), **{k: v.encode() for k, v in cm.data.items()}}
                    if cm is not None
                    else {}
                )
                payload.update(make_payload(ref.items, mode, data, "configmap", ref.optional))
            elif s.HasField("secret"):
                sref = s.secret
                secret = objects.secrets.get(sref.name)
                if secret is None and not sref.optional:
                    raise ProjectionError(f'secret "{sref.name}" not found')
                data = dict(secret.data) if secret is not None else {}
                payload.update(make_payload(sref.items, mode, data, "secret", sref.optional))
            elif s.HasField("downward_api"):
                payload.update(
                    downward_api_payload(pod, s.downward_api.items, mode, node_allocatable)
                )
        except ProjectionError as e:
            failures.append(str(e))
    if failures:
        raise ProjectionError(failures[0] if len(failures) == 1 else f"[{', '.join(failures)}]")
    return payload
