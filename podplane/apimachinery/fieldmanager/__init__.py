"""Server-side apply and managed fields (sigs.k8s.io/structured-merge-diff and k8s.io/apimachinery's
managedfields): field paths and sets in the FieldsV1 format (fieldpath.py, fieldsv1.py), the
schema of a value's type at each path (schema.py, from the protos: proto_schema.py, from an
OpenAPI v3 structural schema: openapi_schema.py), the walks over typed values (typed.py,
compare.py, merge.py), who owns what after a write (updater.py), a kind's field manager as
kube-apiserver runs it (manager.py, with managed.py, lastapplied.py and conflicts.py), and the
entry of a create that gives none, made without the Updater, the part of a spec seen before
remembered (creation.py)."""
