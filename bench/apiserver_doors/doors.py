"""Where the apiserver under test serves its two doors, and the admin's credentials for both:
what every worker process is handed (plain strings, so that it pickles)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass

from podplane.client.credentials import Credentials

GRPC = "grpc"
HTTP = "http"
DOORS = (GRPC, HTTP)


@dataclass(frozen=True)
class Doors:
    grpc_target: str  # host:port of the gRPC API
    rest_url: str  # https://host:port of the Kubernetes REST API
    ca_file: str  # the cluster CA, which signed the apiserver's serving certificate
    cert_file: str  # a client certificate in system:masters (kubeadm's admin.conf user)
    key_file: str

    def credentials(self) -> Credentials:
        """For the gRPC door."""
        return Credentials(self.ca_file, self.cert_file, self.key_file)

    def ssl_context(self) -> ssl.SSLContext:
        """For the REST door: the CA verifies the server, the certificate is the client's."""
        context = ssl.create_default_context(cafile=self.ca_file)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context
