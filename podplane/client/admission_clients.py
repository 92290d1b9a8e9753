"""The typed clients of admissionregistration.k8s.io's kinds, as attributes of
podplane.client.clientset.Client (which finds a resource's client by its plural)."""

from __future__ import annotations

import grpc

from podplane.api.admissionregistration.v1 import admissionregistration_pb2 as admreg_pb2
from podplane.apimachinery import resources
from podplane.client.resource_client import ResourceClient


class AdmissionClients:
    channel: grpc.aio.Channel

    def _add_admission_clients(self, timeout: float) -> None:
        """admissionregistration.k8s.io's webhook configurations, policies and bindings."""
        self.mutatingwebhookconfigurations: ResourceClient[
            admreg_pb2.MutatingWebhookConfiguration
        ] = ResourceClient(self.channel, resources.MUTATING_WEBHOOK_CONFIGURATION, timeout)
        self.validatingwebhookconfigurations: ResourceClient[
            admreg_pb2.ValidatingWebhookConfiguration
        ] = ResourceClient(self.channel, resources.VALIDATING_WEBHOOK_CONFIGURATION, timeout)
        self.validatingadmissionpolicies: ResourceClient[admreg_pb2.ValidatingAdmissionPolicy] = (
            ResourceClient(self.channel, resources.VALIDATING_ADMISSION_POLICY, timeout)
        )
        self.validatingadmissionpolicybindings: ResourceClient[
            admreg_pb2.ValidatingAdmissionPolicyBinding
        ] = ResourceClient(self.channel, resources.VALIDATING_ADMISSION_POLICY_BINDING, timeout)
