"""The generic registry (kubernetes staging/src/k8s.io/apiserver/pkg/registry/generic/registry over
storage/etcd3): create, get, list, update, patch and delete any kind in etcd, split by what each
part does:

- store.py: `Store`, one kind's verbs, each a few lines over the parts below;
- base.py: what every verb uses: keys, the storage codec, validation, etcd's errors as the API's;
- codec.py: how objects are written to etcd and read back, resourceVersions;
- listing.py: lists, pages and continue tokens, selectors;
- create.py: a create, its generated names and dry run, admitted (mutating admission, then the
  strategy's preparation and validation, then validating admission);
- update.py: an update's rules (Kubernetes' rest.BeforeUpdate): what a write of the object, its
  status or another subresource makes of the stored object, admitted around its validation;
- guaranteed_update.py: the read, mutate, compare-and-swap loop every update and patch runs;
- delete.py: a delete (admitted with the stored object as the old one), or the mark of one that
  a grace period or finalizers hold (deletion.py: which, and when an object marked so is
  removed);
- options.py: the options of lists, deletes and patches;
- managed_fields.py: metadata.managedFields, kept on every create and update (create_keys.py:
  what a create's fields are remembered by, so that a part seen before is not walked again);
- claims.py: the keys an object's write claims and releases in the same transaction (a
  Service's cluster IPs and node ports)."""
