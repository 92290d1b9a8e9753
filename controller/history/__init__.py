"""ControllerRevision history, shared by the controllers that keep their pod templates as
revisions: DaemonSets and StatefulSets (kubernetes pkg/controller/history).

A revision is an immutable snapshot (`data`, JSON the controller chooses) with a number
(`revision`, which its controller may raise), controlled by its parent through an
ownerReference, labelled with the parent's template labels so the parent's selector finds it.

Values (controller.history.revision), no API calls:

- `hash_controller_revision(revision, probe)`: Kubernetes' HashControllerRevision, FNV-32 over
  the data and the decimal of the collision count, safe-encoded; `controller_revision_name(prefix,
  hash)` is <prefix>-<hash>.
- `new_controller_revision(parent, parent_resource, template_labels, data, revision,
  collision_count)`: a revision of the parent, named and labelled (controller.kubernetes.io/hash)
  by its hash.
- `sort_controller_revisions`, `equal_revision`, `find_equal_revisions`, `same_data`,
  `next_revision` (max + 1), `revisions_to_prune(old, limit, live)` (the oldest beyond a
  revisionHistoryLimit, never a live one).

Through the API (controller.history.history.History, built from the client's
`controllerrevisions` and the process's shared ControllerRevision informer):

- `list_revisions(parent, selector)`: from the cache, those the selector matches that the parent
  controls or no one does.
- `claim_revisions(parent, parent_resource, selector, fresh_parent)`: adopt the matching
  orphans, release its own that no longer match; the ones it controls.
- `create_revision(parent, revision, collision_count) -> (revision, collision_count)`: created
  under <parent>-<hash>; a name taken by other data raises the collision count and tries the next.
- `update_revision(revision, number)`, `delete_revision(revision)`, `adopt_revision(parent,
  parent_resource, revision)`, `release_revision(parent, revision)`.

The DaemonSet controller names its revisions by the hash of its pod template (ComputeHash, as
Kubernetes' does) and calls `create_revision` only through its own snapshot; the StatefulSet
controller uses `new_controller_revision` and `create_revision` as Kubernetes' does."""
