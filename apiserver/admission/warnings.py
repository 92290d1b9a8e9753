"""What admission tells the client and the audit log of a request besides its answer, as
Kubernetes' warning.AddWarning(ctx, agent, text) and Attributes.AddAnnotation(key, value) do: a
per-request recorder the front door opens (`recording`) and reads when it answers; a plugin adds
to whichever recorder the request has (none: the apiserver's own writes, dropped).

podplane has no audit log: a request's audit annotations are kept on its recorder, where the
REST door logs them (logger apiserver.audit) when it answers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass
class Recorder:
    warnings: list[str] = field(default_factory=list)
    # Attributes.AddAnnotation: the first value of a key stays (a second one is refused).
    annotations: dict[str, str] = field(default_factory=dict)


_CURRENT: ContextVar[Recorder | None] = ContextVar("podplane_admission_recorder", default=None)


@contextmanager
def recording() -> Iterator[Recorder]:
    """The request's recorder while the block runs."""
    recorder = Recorder()
    token = _CURRENT.set(recorder)
    try:
        yield recorder
    finally:
        _CURRENT.reset(token)


def current() -> Recorder | None:
    """The recorder of the request being served; None outside a request."""
    return _CURRENT.get()


def add_warning(text: str) -> None:
    """warning.AddWarning: a warning the answer carries (each once)."""
    recorder = _CURRENT.get()
    if recorder is not None and text and text not in recorder.warnings:
        recorder.warnings.append(text)


def add_annotation(key: str, value: str) -> None:
    """Attributes.AddAnnotation: an audit annotation of the request."""
    recorder = _CURRENT.get()
    if recorder is not None and key not in recorder.annotations:
        recorder.annotations[key] = value
