"""What a plugin answers: success, unschedulable with reasons, or an error. "Doesn't fit" is an
answer, never an exception (kubernetes pkg/scheduler/framework/interface.go Status)."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Code(enum.Enum):
    SUCCESS = "Success"
    # Something went wrong (a bug, a missing cycle state): retry with back-off.
    ERROR = "Error"
    # The node cannot take the pod now; another pod leaving it might change that.
    UNSCHEDULABLE = "Unschedulable"
    # The node cannot take the pod whatever happens to other pods (a taint, a label, a name).
    UNSCHEDULABLE_AND_UNRESOLVABLE = "UnschedulableAndUnresolvable"
    # PreFilter/PreScore: this plugin has nothing to say about the pod; skip its Filter/Score.
    SKIP = "Skip"


@dataclass(frozen=True)
class Status:
    code: Code = Code.SUCCESS
    reasons: tuple[str, ...] = ()
    # The plugin that returned it, filled in by the framework.
    plugin: str = ""

    @staticmethod
    def success() -> Status:
        return SUCCESS

    @staticmethod
    def unschedulable(*reasons: str) -> Status:
        return Status(Code.UNSCHEDULABLE, reasons)

    @staticmethod
    def unresolvable(*reasons: str) -> Status:
        return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, reasons)

    @staticmethod
    def error(message: str) -> Status:
        return Status(Code.ERROR, (message,))

    @staticmethod
    def skip() -> Status:
        return SKIP

    @property
    def is_success(self) -> bool:
        return self.code is Code.SUCCESS

    @property
    def is_skip(self) -> bool:
        return self.code is Code.SKIP

    @property
    def is_rejected(self) -> bool:
        """The pod does not fit (as opposed to succeeding or failing with an error)."""
        return self.code in (Code.UNSCHEDULABLE, Code.UNSCHEDULABLE_AND_UNRESOLVABLE)

    @property
    def is_error(self) -> bool:
        return self.code is Code.ERROR

    @property
    def message(self) -> str:
        return ", ".join(self.reasons)

    def with_plugin(self, plugin: str) -> Status:
        return Status(self.code, self.reasons, plugin)

    def __str__(self) -> str:
        return f"{self.code.value}: {self.message}" if self.reasons else self.code.value


SUCCESS = Status()
# Made once: most plugins skip most pods, on every attempt.
SKIP = Status(Code.SKIP)
