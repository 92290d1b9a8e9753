"""The end of a CRI exec or attach (kubelet/runtime/cri/streaming.py): v4.channel.k8s.io's final
Status on the error stream, as the runtime's streaming server writes it."""

from __future__ import annotations

import json

import pytest

from kubelet.runtime.cri.streaming import exit_code
from kubelet.runtime.types import ContainerRuntimeError


def test_success_and_a_non_zero_exit_code() -> None:
    assert exit_code(b"") == 0
    assert exit_code(b'{"metadata":{},"status":"Success"}') == 0
    failure = {
        "metadata": {},
        "status": "Failure",
        "message": "command terminated with non-zero exit code: exit status 3",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": "3"}]},
    }
    assert exit_code(json.dumps(failure).encode()) == 3


def test_any_other_failure_is_the_runtimes_error_in_its_words() -> None:
    failure = {
        "status": "Failure",
        "message": 'OCI runtime exec failed: exec: "nope": executable file not found in $PATH',
    }
    with pytest.raises(ContainerRuntimeError, match="executable file not found"):
        exit_code(json.dumps(failure).encode())
    with pytest.raises(ContainerRuntimeError, match="plain words"):
        exit_code(b"plain words")
