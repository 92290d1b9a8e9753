"""`describe cronjob`: kubectl's describeCronJob layout (its job template as describeJobTemplate
writes it, the active Jobs by name)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from podctl.describe.common import format_time, write_annotations, write_events, write_labels
from podctl.describe.pod_template import write_pod_template
from podctl.describe.writer import LEVEL_0, PrefixWriter
from podplane.api.batch.v1 import batch_pb2
from podplane.api.core.v1 import core_pb2
from podplane.printers.labels import format_label_selector


def _optional(present: bool, value: object, unit: str = "") -> str:
    return f"{value}{unit}" if present else "<unset>"


def _write_job_template(w: PrefixWriter, template: batch_pb2.JobTemplateSpec) -> None:
    spec = template.spec
    selector = format_label_selector(spec.selector) if spec.HasField("selector") else "<unset>"
    w.write(LEVEL_0, f"Selector:\t{selector}\n")
    w.write(LEVEL_0, f"Parallelism:\t{_optional(spec.HasField('parallelism'), spec.parallelism)}\n")
    w.write(LEVEL_0, f"Completions:\t{_optional(spec.HasField('completions'), spec.completions)}\n")
    if spec.HasField("active_deadline_seconds"):
        w.write(LEVEL_0, f"Active Deadline Seconds:\t{spec.active_deadline_seconds}s\n")
    write_pod_template(w, spec.template)


def describe_cron_job(
    cj: batch_pb2.CronJob, events: Iterable[core_pb2.Event] | None, now: datetime
) -> str:
    w = PrefixWriter()
    spec, status = cj.spec, cj.status
    w.write(LEVEL_0, f"Name:\t{cj.metadata.name}\n")
    w.write(LEVEL_0, f"Namespace:\t{cj.metadata.namespace}\n")
    write_labels(w, "Labels", cj.metadata.labels)
    write_annotations(w, "Annotations", cj.metadata.annotations)
    w.write(LEVEL_0, f"Schedule:\t{spec.schedule}\n")
    w.write(LEVEL_0, f"Concurrency Policy:\t{spec.concurrency_policy}\n")
    suspend = ("True" if spec.suspend else "False") if spec.HasField("suspend") else "<unset>"
    w.write(LEVEL_0, f"Suspend:\t{suspend}\n")
    successful = _optional(
        spec.HasField("successful_jobs_history_limit"), spec.successful_jobs_history_limit
    )
    w.write(LEVEL_0, f"Successful Job History Limit:\t{successful}\n")
    failed = _optional(spec.HasField("failed_jobs_history_limit"), spec.failed_jobs_history_limit)
    w.write(LEVEL_0, f"Failed Job History Limit:\t{failed}\n")
    deadline = _optional(
        spec.HasField("starting_deadline_seconds"), spec.starting_deadline_seconds, "s"
    )
    w.write(LEVEL_0, f"Starting Deadline Seconds:\t{deadline}\n")
    _write_job_template(w, spec.job_template)
    last = format_time(status.last_schedule_time) if status.last_schedule_time else "<unset>"
    w.write(LEVEL_0, f"Last Schedule Time:\t{last}\n")
    active = ", ".join(ref.name for ref in status.active) or "<none>"
    w.write(LEVEL_0, f"Active Jobs:\t{active}\n")
    if events is not None:
        write_events(w, events, now)
    return w.text()
