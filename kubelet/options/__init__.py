"""The kubelet's command line, one option group per concern (podplane.componentbase.options):
node.py (who the node is), runtime.py (the container runtime, its logs, static pods), serving.py
(the kubelet API), reserved.py (resources set aside), dns.py (the pods' DNS), pod_security.py
(sysctls, seccomp), bootstrap.py (TLS bootstrapping), features.py (--feature-gates). Each
validates its flags and leaves the values the KubeletConfig takes on the parsed arguments."""
