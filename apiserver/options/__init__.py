"""kube-apiserver's options: the secure serving, authentication and client TLS flags, and what
they configure."""
