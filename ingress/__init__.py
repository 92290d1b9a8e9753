"""The ingress controller add-on (ingress-haproxy): serves the Ingresses of its IngressClass with
HAProxy, from the apiserver's Ingresses, IngressClasses, Services, EndpointSlices and Secrets."""
