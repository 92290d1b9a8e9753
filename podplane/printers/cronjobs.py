"""The cron job table, as printCronJob."""

from __future__ import annotations

from datetime import datetime

from podplane.api.batch.v1 import batch_pb2
from podplane.apimachinery.timeutil import human_age
from podplane.printers.labels import format_label_selector
from podplane.printers.spec import (
    CONTAINERS_DOC,
    IMAGES_DOC,
    Cell,
    Column,
    TableSpec,
    age_column,
    name_column,
)
from podplane.printers.workloads import containers_images


def bool_pointer(present: bool, value: bool) -> str:
    """printBoolPtr: True, False, or <unset> for a nil pointer."""
    if not present:
        return "<unset>"
    return "True" if value else "False"


def cron_job_row(cj: batch_pb2.CronJob, now: datetime) -> list[Cell]:
    spec = cj.spec
    last = cj.status.last_schedule_time
    return [
        cj.metadata.name,
        spec.schedule,
        spec.time_zone if spec.HasField("time_zone") else "<none>",
        bool_pointer(spec.HasField("suspend"), spec.suspend),
        len(cj.status.active),
        human_age(last, now) if last else "<none>",
        human_age(cj.metadata.creation_timestamp, now),
        *containers_images(spec.job_template.spec.template),
        format_label_selector(spec.job_template.spec.selector),
    ]


CRON_JOB_TABLE = TableSpec(
    columns=(
        name_column(),
        Column(
            "Schedule",
            "string",
            "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.",
        ),
        Column(
            "Timezone",
            "string",
            "The time zone name for the given schedule, see "
            "https://en.wikipedia.org/wiki/List_of_tz_database_time_zones. If not specified, "
            "this will default to the time zone of the kube-controller-manager process.",
        ),
        Column(
            "Suspend",
            "boolean",
            "This flag tells the controller to suspend subsequent executions, it does not apply "
            "to already started executions.  Defaults to false.",
        ),
        Column("Active", "integer", "A list of pointers to currently running jobs."),
        Column(
            "Last Schedule",
            "string",
            "Information when was the last time the job was successfully scheduled.",
        ),
        age_column(),
        Column("Containers", "string", CONTAINERS_DOC, priority=1),
        Column("Images", "string", IMAGES_DOC, priority=1),
        Column(
            "Selector",
            "string",
            "A label query over pods that should match the pod count. Normally, the system "
            "sets this field for you. More info: "
            "https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/"
            "#label-selectors",
            priority=1,
        ),
    ),
    row=cron_job_row,
)
