"""CronJob validation and defaulting, and the Job's 1.31 policies (podFailurePolicy,
successPolicy, backoffLimitPerIndex, maxFailedIndexes, podReplacementPolicy, managedBy): each bad
field yields Kubernetes' error at its path; objects as users write them pass."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from apiserver.defaulting import jobs as job_defaulting
from apiserver.registry.strategies import batch as batch_strategies
from apiserver.validation import cronjobs, jobs
from apiserver.validation.fields import FieldError
from podplane.api.batch.v1 import batch_pb2
from podplane.apimachinery import manifest, resources

UID = "0b5b8a1f-7c1e-4cde-9e3c-6ad1b0c1f2aa"
POD_TEMPLATE: dict[str, Any] = {
    "spec": {"restartPolicy": "Never", "containers": [{"name": "main", "image": "busybox"}]}
}


def cron_doc(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "hello", "namespace": "default"},
        "spec": {
            "schedule": "*/1 * * * *",
            "jobTemplate": {"spec": {"template": copy.deepcopy(POD_TEMPLATE)}},
            **spec,
        },
    }


def cron_job(doc: dict[str, Any]) -> batch_pb2.CronJob:
    obj = manifest.from_dict(doc, batch_pb2.CronJob)
    assert isinstance(obj, batch_pb2.CronJob)
    job_defaulting.cron_job(obj)
    return obj


def job(**spec: Any) -> batch_pb2.Job:
    doc = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "pi", "namespace": "default"},
        "spec": {"template": copy.deepcopy(POD_TEMPLATE), **spec},
    }
    obj = manifest.from_dict(doc, batch_pb2.Job)
    assert isinstance(obj, batch_pb2.Job)
    job_defaulting.job(obj)
    obj.metadata.uid = UID
    job_defaulting.generate_job_selector(obj)
    return obj


def strings(errs: list[FieldError]) -> list[str]:
    return [str(e) for e in errs]


# ---------------------------------------------------------------- cron jobs


def test_a_cron_job_as_kubectl_creates_it_is_valid_and_defaulted() -> None:
    cj = cron_job(cron_doc())
    assert strings(cronjobs.cron_job(cj)) == []
    spec = cj.spec
    assert spec.concurrency_policy == "Allow"
    assert spec.HasField("suspend") and not spec.suspend
    assert (spec.successful_jobs_history_limit, spec.failed_jobs_history_limit) == (3, 1)
    # The template's job is not a Job yet: only its pod template gets defaults.
    template = spec.job_template.spec
    assert not template.HasField("backoff_limit") and not template.HasField("parallelism")
    assert template.template.spec.dns_policy == "ClusterFirst"
    assert template.template.spec.containers[0].termination_message_path == "/dev/termination-log"


def test_defaults_keep_what_was_set() -> None:
    cj = cron_job(
        cron_doc(
            concurrencyPolicy="Forbid",
            suspend=True,
            successfulJobsHistoryLimit=0,
            failedJobsHistoryLimit=5,
        )
    )
    assert (cj.spec.concurrency_policy, cj.spec.suspend) == ("Forbid", True)
    assert (cj.spec.successful_jobs_history_limit, cj.spec.failed_jobs_history_limit) == (0, 5)


@pytest.mark.parametrize(
    "spec,expected",
    [
        ({"schedule": ""}, "spec.schedule: Required value"),
        (
            {"schedule": "hello"},
            'spec.schedule: Invalid value: "hello": expected exactly 5 fields, found 1: [hello]',
        ),
        (
            {"schedule": "61 * * * *"},
            'spec.schedule: Invalid value: "61 * * * *": end of range (61) above maximum (59): 61',
        ),
        (
            {"schedule": "@fortnightly"},
            'spec.schedule: Invalid value: "@fortnightly": unrecognized descriptor: @fortnightly',
        ),
        (
            {"schedule": "TZ=UTC * * * * *"},
            'spec.schedule: Invalid value: "TZ=UTC * * * * *": cannot use TZ or CRON_TZ in '
            "schedule, use timeZone field instead",
        ),
        (
            {"schedule": "CRON_TZ=Europe/Paris 0 9 * * *"},
            'spec.schedule: Invalid value: "CRON_TZ=Europe/Paris 0 9 * * *": cannot use TZ or '
            "CRON_TZ in schedule, use timeZone field instead",
        ),
        (
            {"timeZone": "Mars/Olympus"},
            'spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus',
        ),
        (
            {"timeZone": "../etc/passwd"},
            'spec.timeZone: Invalid value: "../etc/passwd": unknown time zone ../etc/passwd',
        ),
        (
            {"timeZone": "Local"},
            'spec.timeZone: Invalid value: "Local": timeZone must be an explicit time zone as '
            "defined in https://www.iana.org/time-zones",
        ),
        (
            {"timeZone": ""},
            'spec.timeZone: Invalid value: "": timeZone must be nil or non-empty string',
        ),
        (
            {"concurrencyPolicy": "Sometimes"},
            'spec.concurrencyPolicy: Unsupported value: "Sometimes": supported values: "Allow", '
            '"Forbid", "Replace"',
        ),
        (
            {"startingDeadlineSeconds": -1},
            "spec.startingDeadlineSeconds: Invalid value: -1: must be greater than or equal to 0",
        ),
        (
            {"successfulJobsHistoryLimit": -1},
            "spec.successfulJobsHistoryLimit: Invalid value: -1: must be greater than or equal "
            "to 0",
        ),
        (
            {"failedJobsHistoryLimit": -2},
            "spec.failedJobsHistoryLimit: Invalid value: -2: must be greater than or equal to 0",
        ),
    ],
)
def test_invalid_cron_job_spec_names_the_field(spec: dict[str, Any], expected: str) -> None:
    assert expected in strings(cronjobs.cron_job(cron_job(cron_doc(**spec))))


@pytest.mark.parametrize(
    "change,expected",
    [
        (
            lambda d: d["spec"]["jobTemplate"]["spec"].update(selector={"matchLabels": {"a": "b"}}),
            'spec.jobTemplate.spec.selector: Invalid value: {"matchLabels":{"a":"b"}}: '
            "`selector` will be auto-generated",
        ),
        (
            lambda d: d["spec"]["jobTemplate"]["spec"].update(manualSelector=True),
            "spec.jobTemplate.spec.manualSelector: Unsupported value: true: supported values: "
            '"nil", "false"',
        ),
        (
            lambda d: d["spec"]["jobTemplate"]["spec"]["template"]["spec"].pop("restartPolicy"),
            'spec.jobTemplate.spec.template.spec.restartPolicy: Unsupported value: "Always": '
            'supported values: "OnFailure", "Never"',
        ),
        (
            lambda d: d["spec"]["jobTemplate"]["spec"].update(parallelism=-1),
            "spec.jobTemplate.spec.parallelism: Invalid value: -1: must be greater than or "
            "equal to 0",
        ),
        (
            lambda d: d["spec"]["jobTemplate"]["spec"]["template"]["spec"].update(containers=[]),
            "spec.jobTemplate.spec.template.spec.containers: Required value",
        ),
        (
            lambda d: d["metadata"].update(name="x" * 53),
            f'metadata.name: Invalid value: "{"x" * 53}": must be no more than 52 characters',
        ),
    ],
)
def test_invalid_cron_job_template_and_name(
    change: Callable[[dict[str, Any]], None], expected: str
) -> None:
    doc = cron_doc()
    change(doc)
    assert expected in strings(cronjobs.cron_job(cron_job(doc)))


@pytest.mark.parametrize(
    "spec",
    [
        {"schedule": "@hourly"},
        {"schedule": "@every 90m"},
        {"schedule": "0 9 * * mon-fri", "timeZone": "Europe/Paris"},
        {"schedule": "*/5 * * * *", "timeZone": "Etc/GMT+5"},
        {"schedule": "0 0 1 JAN ?", "timeZone": "UTC"},
        {"startingDeadlineSeconds": 0, "successfulJobsHistoryLimit": 0},
    ],
)
def test_valid_schedules_and_zones(spec: dict[str, Any]) -> None:
    assert strings(cronjobs.cron_job(cron_job(cron_doc(**spec)))) == []


def test_update_rules() -> None:
    old = cron_job(cron_doc())
    old.metadata.name = "x" * 60  # made before names were limited: it may still be updated
    new = batch_pb2.CronJob()
    new.CopyFrom(old)
    new.spec.suspend = True
    assert strings(cronjobs.cron_job_update(new, old)) == []
    # A TZ= schedule stored before the rule may stay, but not beside a timeZone.
    old.spec.schedule = new.spec.schedule = "TZ=UTC 0 * * * *"
    assert strings(cronjobs.cron_job_update(new, old)) == []
    new.spec.time_zone = "UTC"
    assert strings(cronjobs.cron_job_update(new, old)) == [
        'spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use both timeZone field and '
        "TZ or CRON_TZ in schedule"
    ]


def test_the_strategy_defaults_validates_and_clears_status() -> None:
    [strategy] = [s for s in batch_strategies.STRATEGIES if s.resource is resources.CRON_JOB]
    cj = manifest.from_dict(cron_doc(), batch_pb2.CronJob)
    assert isinstance(cj, batch_pb2.CronJob)
    cj.status.last_schedule_time = "2024-01-01T00:00:00Z"
    strategy.default(cj)
    strategy.prepare_for_create(cj)
    assert cj.spec.concurrency_policy == "Allow" and not cj.HasField("status")
    assert strategy.validate(cj) == []


# ---------------------------------------------------------------- job policies


def test_job_defaults_for_the_policies() -> None:
    j = job(podFailurePolicy={"rules": [{"action": "Ignore", "onPodConditions": [{"type": "X"}]}]})
    assert j.spec.pod_replacement_policy == "Failed"
    assert j.spec.pod_failure_policy.rules[0].on_pod_conditions[0].status == "True"
    per_index = job(completionMode="Indexed", completions=3, backoffLimitPerIndex=1)
    assert per_index.spec.backoff_limit == 2**31 - 1
    assert job().spec.pod_replacement_policy == "TerminatingOrFailed"
    assert job().spec.manual_selector is False


def exit_codes(operator: str = "In", values: list[int] | None = None, **more: Any) -> Any:
    return {"operator": operator, "values": [1, 2] if values is None else values, **more}


def failure_policy(*rules: dict[str, Any]) -> dict[str, Any]:
    return {"podFailurePolicy": {"rules": list(rules)}}


RULES = "spec.podFailurePolicy.rules[0]"


@pytest.mark.parametrize(
    "spec,expected",
    [
        (
            failure_policy({"action": "FailJob"}),
            f"{RULES}: Invalid value: specifying one of OnExitCodes and OnPodConditions is "
            "required",
        ),
        (
            failure_policy(
                {
                    "action": "FailJob",
                    "onExitCodes": exit_codes(),
                    "onPodConditions": [{"type": "DisruptionTarget"}],
                }
            ),
            f"{RULES}: Invalid value: specifying both OnExitCodes and OnPodConditions is not "
            "supported",
        ),
        (
            failure_policy({"action": "Explode", "onExitCodes": exit_codes()}),
            f'{RULES}.action: Unsupported value: "Explode": supported values: "Count", '
            '"FailIndex", "FailJob", "Ignore"',
        ),
        (
            failure_policy({"action": "FailIndex", "onExitCodes": exit_codes()}),
            f'{RULES}.action: Invalid value: "FailIndex": requires the backoffLimitPerIndex to '
            "be set",
        ),
        (
            failure_policy({"action": "FailJob", "onExitCodes": exit_codes("Maybe")}),
            f'{RULES}.onExitCodes.operator: Unsupported value: "Maybe": supported values: "In", '
            '"NotIn"',
        ),
        (
            failure_policy({"action": "FailJob", "onExitCodes": exit_codes(values=[0, 1])}),
            f"{RULES}.onExitCodes.values[0]: Invalid value: 0: must not be 0 for the In operator",
        ),
        (
            failure_policy({"action": "FailJob", "onExitCodes": exit_codes(values=[3, 1])}),
            f"{RULES}.onExitCodes.values: Invalid value: []int32{{3, 1}}: must be ordered",
        ),
        (
            failure_policy({"action": "FailJob", "onExitCodes": exit_codes(values=[1, 1])}),
            f"{RULES}.onExitCodes.values[1]: Duplicate value: 1",
        ),
        (
            failure_policy({"action": "FailJob", "onExitCodes": exit_codes(values=[])}),
            f"{RULES}.onExitCodes.values: Invalid value: []int32{{}}: at least one value is "
            "required",
        ),
        (
            failure_policy(
                {"action": "FailJob", "onExitCodes": exit_codes(containerName="sidecar")}
            ),
            f'{RULES}.onExitCodes.containerName: Invalid value: "sidecar": must be one of the '
            "container or initContainer names in the pod template",
        ),
        (
            failure_policy(
                {"action": "Ignore", "onPodConditions": [{"type": "X", "status": "Perhaps"}]}
            ),
            f'{RULES}.onPodConditions[0].status: Unsupported value: "Perhaps": supported '
            'values: "False", "True", "Unknown"',
        ),
        (
            failure_policy(*[{"action": "Count", "onExitCodes": exit_codes()}] * 21),
            "spec.podFailurePolicy.rules: Too many: 21: must have at most 20 items",
        ),
        (
            {
                **failure_policy({"action": "Ignore", "onExitCodes": exit_codes()}),
                "podReplacementPolicy": "TerminatingOrFailed",
            },
            'spec.podReplacementPolicy: Unsupported value: "TerminatingOrFailed": supported '
            'values: "Failed"',
        ),
        (
            {"podReplacementPolicy": "Never"},
            'spec.podReplacementPolicy: Unsupported value: "Never": supported values: "Failed", '
            '"TerminatingOrFailed"',
        ),
        (
            {"backoffLimitPerIndex": 1},
            "spec.backoffLimitPerIndex: Invalid value: 1: requires indexed completion mode",
        ),
        (
            {"completionMode": "Indexed", "completions": 3, "maxFailedIndexes": 1},
            "spec.backoffLimitPerIndex: Required value: when maxFailedIndexes is specified",
        ),
        (
            {
                "completionMode": "Indexed",
                "completions": 3,
                "backoffLimitPerIndex": 1,
                "maxFailedIndexes": 4,
            },
            "spec.maxFailedIndexes: Invalid value: 4: must be less than or equal to completions",
        ),
        (
            {"completionMode": "Indexed", "completions": 3, "backoffLimitPerIndex": -1},
            "spec.backoffLimitPerIndex: Invalid value: -1: must be greater than or equal to 0",
        ),
        (
            {"successPolicy": {"rules": [{"succeededCount": 1}]}},
            'spec.successPolicy: Invalid value: {"rules":[{"succeededCount":1}]}: requires '
            "indexed completion mode",
        ),
        (
            {"completionMode": "Indexed", "completions": 3, "successPolicy": {"rules": []}},
            "spec.successPolicy.rules: Required value: at least one rules must be specified when "
            "the successPolicy is specified",
        ),
        (
            {"completionMode": "Indexed", "completions": 3, "successPolicy": {"rules": [{}]}},
            "spec.successPolicy.rules[0]: Required value: at least one of succeededCount or "
            "succeededIndexes must be specified",
        ),
        (
            {
                "completionMode": "Indexed",
                "completions": 3,
                "successPolicy": {"rules": [{"succeededIndexes": "0-5"}]},
            },
            'spec.successPolicy.rules[0].succeededIndexes: Invalid value: "0-5": error parsing '
            'succeededIndexes: too large index: "5"',
        ),
        (
            {
                "completionMode": "Indexed",
                "completions": 5,
                "successPolicy": {"rules": [{"succeededIndexes": "3,1"}]},
            },
            'spec.successPolicy.rules[0].succeededIndexes: Invalid value: "3,1": error parsing '
            "succeededIndexes: non-increasing order, previous: 3, current: 1",
        ),
        (
            {
                "completionMode": "Indexed",
                "completions": 5,
                "successPolicy": {"rules": [{"succeededIndexes": "0-1", "succeededCount": 3}]},
            },
            "spec.successPolicy.rules[0].succeededCount: Invalid value: 3: must be less than or "
            "equal to 2 (the number of indexes in the specified succeededIndexes field)",
        ),
        (
            {
                "completionMode": "Indexed",
                "completions": 5,
                "successPolicy": {"rules": [{"succeededCount": 6}]},
            },
            "spec.successPolicy.rules[0].succeededCount: Invalid value: 6: must be less than or "
            "equal to 5 (the number of specified completions)",
        ),
    ],
)
def test_invalid_job_policies_name_the_field(spec: dict[str, Any], expected: str) -> None:
    assert expected in strings(jobs.job(job(**spec)))


def test_pod_failure_policy_needs_restart_policy_never() -> None:
    j = job(**failure_policy({"action": "FailJob", "onExitCodes": exit_codes()}))
    j.spec.template.spec.restart_policy = "OnFailure"
    assert strings(jobs.job(j)) == [
        'spec.template.spec.restartPolicy: Invalid value: "OnFailure": only "Never" is '
        "supported when podFailurePolicy is specified"
    ]


@pytest.mark.parametrize(
    "spec",
    [
        failure_policy(
            {"action": "FailJob", "onExitCodes": exit_codes("In", [42], containerName="main")},
            {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]},
            {"action": "Count", "onExitCodes": exit_codes("NotIn", [0, 1])},
        ),
        {
            "completionMode": "Indexed",
            "completions": 10,
            "parallelism": 3,
            "backoffLimitPerIndex": 1,
            "maxFailedIndexes": 5,
            "successPolicy": {"rules": [{"succeededIndexes": "0,2-4,7", "succeededCount": 3}]},
            **failure_policy({"action": "FailIndex", "onExitCodes": exit_codes()}),
        },
        {"podReplacementPolicy": "Failed"},
    ],
)
def test_valid_job_policies(spec: dict[str, Any]) -> None:
    assert strings(jobs.job(job(**spec))) == []


def test_an_indexed_jobs_hostnames_must_be_labels() -> None:
    j = job(completionMode="Indexed", completions=1000)
    j.metadata.name = "x" * 60
    j.spec.template.metadata.labels["job-name"] = j.spec.template.metadata.labels[
        "batch.kubernetes.io/job-name"
    ] = j.metadata.name
    assert (
        f'metadata.name: Invalid value: "{"x" * 60}": will not able to create pod with invalid '
        f"DNS label: {'x' * 60}-999"
    ) in strings(jobs.job(j))


@pytest.mark.parametrize(
    "field,value",
    [
        ("pod_failure_policy", None),
        ("backoff_limit_per_index", 2),
        ("success_policy", None),
    ],
)
def test_the_policies_are_immutable(field: str, value: int | None) -> None:
    old = job(completionMode="Indexed", completions=3, backoffLimitPerIndex=1)
    new = batch_pb2.Job()
    new.CopyFrom(old)
    if value is None:
        getattr(new.spec, field).SetInParent()
        if field == "pod_failure_policy":
            new.spec.pod_failure_policy.rules.add(action="Ignore").on_exit_codes.values.append(1)
            new.spec.pod_failure_policy.rules[0].on_exit_codes.operator = "In"
            new.spec.pod_replacement_policy = "Failed"
        else:
            new.spec.success_policy.rules.add(succeeded_count=1)
    else:
        setattr(new.spec, field, value)
    assert any("field is immutable" in e for e in strings(jobs.job_update(new, old)))


def test_a_suspended_job_that_never_ran_may_change_its_scheduling_directives() -> None:
    old = job(suspend=True)
    new = batch_pb2.Job()
    new.CopyFrom(old)
    new.spec.template.spec.node_selector["zone"] = "a"
    new.spec.template.metadata.annotations["placed"] = "yes"
    new.spec.template.spec.tolerations.add(key="k", operator="Exists")
    assert strings(jobs.job_update(new, old)) == []
    old.status.start_time = "2024-01-01T00:00:00Z"  # it ran: the template is fixed
    assert "spec.template: Invalid value: field is immutable" in strings(jobs.job_update(new, old))


def test_managed_by_is_dropped_as_an_alpha_field() -> None:
    [strategy] = [s for s in batch_strategies.STRATEGIES if s.resource is resources.JOB]
    j = job(managedBy="example.com/queue")
    strategy.prepare_for_create(j)
    assert not j.spec.HasField("managed_by")
    old, new = job(), job(managedBy="example.com/queue")
    strategy.prepare_for_update(new, old)
    assert not new.spec.HasField("managed_by")


@pytest.mark.parametrize(
    "status,expected",
    [
        ({"terminating": -1}, "status.terminating: Invalid value: -1"),
        (
            {"uncountedTerminatedPods": {"succeeded": ["a"], "failed": ["a"]}},
            'status.uncountedTerminatedPods.failed[0]: Duplicate value: "a"',
        ),
        (
            {"uncountedTerminatedPods": {"failed": [""]}},
            'status.uncountedTerminatedPods.failed[0]: Invalid value: "": must not be empty',
        ),
        (
            {"completedIndexes": "0-9"},
            'status.completedIndexes: Invalid value: "0-9": error parsing completedIndexes: too '
            'large index: "9"',
        ),
        (
            {
                "conditions": [
                    {"type": "SuccessCriteriaMet", "status": "True"},
                    {"type": "FailureTarget", "status": "True"},
                ]
            },
            "status.conditions: Invalid value: cannot set SuccessCriteriaMet=True and "
            "FailureTarget=true conditions",
        ),
    ],
)
def test_job_status_rules(status: dict[str, Any], expected: str) -> None:
    j = job(completionMode="Indexed", completions=3)
    j.status.CopyFrom(manifest.from_dict(status, batch_pb2.JobStatus))
    assert any(e.startswith(expected) for e in strings(jobs.job(j))), strings(jobs.job(j))
