"""The gRPC front door, assembled: a servicer for every resource over the registry's stores and
reads, behind the interceptors in their order. The door adds no rule of its own: each interceptor
adapts a decision of apiserver.auth or apiserver.flowcontrol, each servicer calls the registry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apiserver.auth.authenticator import Authenticator
from apiserver.auth.authorizer import Authorizer
from apiserver.endpoints.grpc.custom_objects import CustomObjectsServicer
from apiserver.endpoints.grpc.interceptors.admission_recording import (
    AdmissionRecordingInterceptor,
)
from apiserver.endpoints.grpc.interceptors.authentication import AuthenticationInterceptor
from apiserver.endpoints.grpc.interceptors.authorization import AuthorizationInterceptor
from apiserver.endpoints.grpc.interceptors.max_inflight import MaxInflightInterceptor
from apiserver.endpoints.grpc.interceptors.metrics import MetricsInterceptor
from apiserver.endpoints.grpc.interceptors.priority_and_fairness import (
    PriorityAndFairnessInterceptor,
)
from apiserver.endpoints.grpc.interceptors.request_decoding import RequestDecodingInterceptor
from apiserver.endpoints.grpc.servicers import (
    ComponentStatusesServicer,
    CreateOnlyServicer,
    EventsServicer,
    PodsServicer,
    ResourceServicer,
    ServiceAccountsServicer,
)
from apiserver.endpoints.grpc.watch_batches import serve_batches_as_bytes
from apiserver.endpoints.request import MAX_REQUEST_BYTES
from apiserver.flowcontrol.max_inflight import MaxInflight
from apiserver.flowcontrol.priority_and_fairness import PriorityAndFairness
from apiserver.options.secure_serving import SecureServing
from apiserver.registry.reviews import CreateOnlyAPI
from apiserver.registry.served import ServedResources, key_of
from apiserver.registry.serviceaccount.token import TokenRequests
from podplane.api.apiextensions.v1 import custom_objects_pb2_grpc
from podplane.apimachinery import resources
from podplane.apimachinery.resources import Resource
from podplane.componentbase.serving import MethodTable, Server


def _servicer(
    r: Resource, apis: ServedResources, tokens: TokenRequests | None
) -> ResourceServicer[Any]:
    """The resource's servicer: pods, events and service accounts serve methods of their own."""
    if r is resources.POD:
        return PodsServicer(apis[r.plural], apis["nodes"].store, apis["poddisruptionbudgets"])
    if r is resources.EVENT:
        return EventsServicer(apis[r.plural])
    if r is resources.SERVICE_ACCOUNT:
        return ServiceAccountsServicer(apis[r.plural], tokens)
    return ResourceServicer(apis[r.plural])


def grpc_server(
    address: str,
    apis: ServedResources,
    *,
    create_only: Mapping[str, CreateOnlyAPI[Any]],
    authorizer: Authorizer,
    flow_control: PriorityAndFairness | MaxInflight,
    security: SecureServing | None,
    acceptors: int,
    authenticator: Authenticator | None = None,
    tokens: TokenRequests | None = None,
) -> Server:
    """The gRPC server of every resource's service (`apis`: the built-in kinds by plural, each
    with its own service, and the custom resources, all in the CustomObjects service) and every
    create-only kind's (`create_only` by plural). With `security`, TLS and authentication (by
    `authenticator`, else the one `security` describes); the token port, if any, is the
    caller's to add. `tokens`: the service accounts' token subresource, if served."""
    servicers = {r.plural: _servicer(r, apis, tokens) for r in resources.ALL}
    # The built-in kinds' other served versions: a service per version.
    versions = [(r, ResourceServicer(apis.versions[key_of(r)])) for r in resources.OTHER_VERSIONS]
    create_only_servicers = {
        r.plural: CreateOnlyServicer(create_only[r.plural]) for r in resources.CREATE_ONLY
    }
    if security is not None and authenticator is None:
        authenticator = security.authenticator()

    custom_objects = CustomObjectsServicer(apis)

    def register(methods: MethodTable) -> None:  # one table, served by every acceptor
        for r in resources.ALL:
            r.add_servicer(servicers[r.plural], methods)
        for r, servicer in versions:
            r.add_servicer(servicer, methods)
        for c in resources.CREATE_ONLY:
            c.add_servicer(create_only_servicers[c.plural], methods)
        for computed in resources.COMPUTED:
            computed.add_servicer(
                ComponentStatusesServicer(apis.computed[computed.plural]), methods
            )
        custom_objects_pb2_grpc.add_CustomObjectsServicer_to_server(custom_objects, methods)
        serve_batches_as_bytes(methods)

    return Server(
        address,
        register,
        [
            *(r.service for r in (*resources.SERVED, *resources.COMPUTED)),
            resources.CUSTOM_OBJECTS_SERVICE,
        ],
        credentials=security.server_credentials() if security else None,
        authentication=(
            AuthenticationInterceptor(authenticator, authorizer) if authenticator else None
        ),
        interceptors=[
            # First after authentication: a refusal does the least work.
            # Before metrics: a rejected request is not counted as served.
            (
                PriorityAndFairnessInterceptor(flow_control, apis.resolve)
                if isinstance(flow_control, PriorityAndFairness)
                else MaxInflightInterceptor(flow_control)
            ),
            RequestDecodingInterceptor(),
            MetricsInterceptor(),
            AdmissionRecordingInterceptor(),
            # After authentication, which sets the user it reads.
            AuthorizationInterceptor(authorizer, apis.resolve),
        ],
        max_receive_message_length=MAX_REQUEST_BYTES,
        acceptors=acceptors,
    )
