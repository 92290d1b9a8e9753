"""The options of a request's verb as values (metav1.ListOptions, DeleteOptions, PatchOptions, and
the storage layer's ListOptions): each door builds one from its request (the gRPC message, the REST
query and body) and hands it to ResourceAPI, which passes it on to the watch cache, the uncached
reads and the store. A new option is a field here and a line in each door, not a keyword threaded
through every layer."""

from __future__ import annotations

from dataclasses import dataclass, field

from apiserver.registry.generic.managed_fields import SERVER, Manager

# resourceVersionMatch's values (metav1.ResourceVersionMatch).
NOT_OLDER_THAN, EXACT = "NotOlderThan", "Exact"


@dataclass(frozen=True)
class ListOptions:
    """A list's options: the selectors, the state to read (resourceVersion and
    resourceVersionMatch, see ResourceAPI), and a page (`limit` items from `continue_`)."""

    label_selector: str = ""
    field_selector: str = ""
    resource_version: str = ""
    resource_version_match: str = ""
    limit: int = 0
    continue_: str = ""

    def selecting(self) -> ListOptions:
        """Only the selectors: what a read of the watch cache's state (or one standing in for
        it) honours, as kube-apiserver's cacher ignores `limit` there."""
        return ListOptions(label_selector=self.label_selector, field_selector=self.field_selector)


@dataclass(frozen=True)
class WatchOptions:
    """A watch's options: the selectors, the resourceVersion to follow from ("" or "0": the
    current state first), whether BOOKMARK events may be sent, and how long the watch lasts
    (0: until either end stops it)."""

    label_selector: str = ""
    field_selector: str = ""
    resource_version: str = ""
    allow_watch_bookmarks: bool = False
    timeout_seconds: int = 0


@dataclass(frozen=True)
class Preconditions:
    """What the object must still be for the delete to happen ("" checks nothing)."""

    uid: str = ""
    resource_version: str = ""


@dataclass(frozen=True)
class DeleteOptions:
    """A delete's options: the grace period (None: the object's own), the preconditions, the
    propagation policy for its dependents ("": the kind's default), and dry run."""

    grace_period_seconds: int | None = None
    preconditions: Preconditions = field(default_factory=Preconditions)
    propagation_policy: str = ""
    dry_run: bool = False


@dataclass(frozen=True)
class PatchOptions:
    """A patch's options: dry run (the patched object is checked and answered, not stored) and
    who patches (the manager its changes are recorded for in metadata.managedFields)."""

    dry_run: bool = False
    manager: Manager = SERVER
    # An apply's option, which another patch may not give (its presence is refused).
    force: bool | None = None


@dataclass(frozen=True)
class ApplyOptions:
    """A server-side apply's options: dry run, the manager (fieldManager, required), and force,
    which takes over the fields other managers own instead of refusing with their conflicts."""

    manager: Manager
    dry_run: bool = False
    force: bool = False


# The options of a request that sets none, as the verbs' defaults (frozen, so one of each serves).
DEFAULT_LIST = ListOptions()
DEFAULT_WATCH = WatchOptions()
DEFAULT_DELETE = DeleteOptions()
DEFAULT_PATCH = PatchOptions()
