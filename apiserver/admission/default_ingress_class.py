"""DefaultIngressClass (kubernetes plugin/pkg/admission/network/defaultingressclass): an Ingress
created without a class gets the cluster's default one, the IngressClass annotated
ingressclass.kubernetes.io/is-default-class: "true" (of several, the newest, then the first by
name). An Ingress that names a class, in spec.ingressClassName or in the older
kubernetes.io/ingress.class annotation, keeps it; with no default class it is left as it is.
Updates are not looked at."""

from __future__ import annotations

from apiserver.admission.attributes import CREATE, Attributes
from apiserver.admission.interfaces import Handler, Scope
from apiserver.admission.lookups import ClusterObjects
from podplane.api.networking.v1 import networking_pb2
from podplane.apimachinery import networking

NAME = "DefaultIngressClass"


class DefaultIngressClass(Handler):
    """Mutating only, of Ingress creates."""

    admit_scope = Scope((networking_pb2.Ingress,))

    def __init__(self, classes: ClusterObjects[networking_pb2.IngressClass]) -> None:
        super().__init__(CREATE)
        self._classes = classes

    async def admit(self, attrs: Attributes) -> None:
        ingress = attrs.object
        if attrs.subresource or not isinstance(ingress, networking_pb2.Ingress):
            return
        if ingress.spec.HasField("ingress_class_name"):
            return
        if networking.INGRESS_CLASS_ANNOTATION in ingress.metadata.annotations:
            return
        default = networking.default_class(self._classes.cached())
        if default is not None:
            ingress.spec.ingress_class_name = default.metadata.name
