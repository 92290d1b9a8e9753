"""Admission: checks a request must pass before it is stored (kube-apiserver admission plugins)."""
