"""DefaultTolerationSeconds (kubernetes plugin/pkg/admission/defaulttolerationseconds): a pod
created or updated tolerates a not-ready or an unreachable node for 300 s, unless it tolerates
them already. Mutating only; after Priority and before RuntimeClass, whose tolerations come after
these two."""

from __future__ import annotations

from apiserver.admission.attributes import CREATE, UPDATE, Attributes
from apiserver.admission.interfaces import Handler, Scope
from apiserver.defaulting import pod as pod_defaulting
from podplane.api.core.v1 import core_pb2

NAME = "DefaultTolerationSeconds"


class DefaultTolerationSeconds(Handler):
    admit_scope = Scope((core_pb2.Pod,))

    def __init__(self) -> None:
        super().__init__(CREATE, UPDATE)

    async def admit(self, attrs: Attributes) -> None:
        pod = attrs.object
        if attrs.subresource or not isinstance(pod, core_pb2.Pod):
            return
        pod_defaulting.default_tolerations(pod.spec)
