"""Probes and lifecycle hooks (kubernetes pkg/apis/core/validation: validateProbe, validateHandler,
validateLifecycle and the actions they check): exactly one handler each, a port in range, a
liveness or startup probe that succeeds once, no termination grace period on a readiness probe."""

from __future__ import annotations

import re

from apiserver.validation import fields
from apiserver.validation.fields import FieldError
from apiserver.validation.generic_rules import nonnegative
from podplane.api.core.v1 import core_pb2

HTTP_SCHEMES = ("HTTP", "HTTPS")
_MORE_THAN_ONE = "may not specify more than 1 handler type"
_HTTP_HEADER_NAME = re.compile(r"^[-A-Za-z0-9]+$")
PORT_RANGE = "must be between 1 and 65535, inclusive"
_PORT_NAME_CHARS = re.compile(r"^[-a-z0-9]+$")

Handler = core_pb2.Probe | core_pb2.LifecycleHandler


def port_number(path: str, value: int) -> list[FieldError]:
    return [] if 1 <= value <= 65535 else [fields.invalid(path, value, PORT_RANGE)]


def port_name(path: str, name: str) -> list[FieldError]:
    """IsValidPortName: an IANA service name."""
    problems = []
    if len(name) > 15:
        problems.append("must be no more than 15 characters")
    if not _PORT_NAME_CHARS.match(name):
        problems.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not re.search("[a-z]", name):
        problems.append("must contain at least one letter (a-z)")
    if "--" in name:
        problems.append("must not contain consecutive hyphens")
    if name and (name[0] == "-" or name[-1] == "-"):
        problems.append("must not begin or end with a hyphen")
    return [fields.invalid(path, name, p) for p in problems]


def port_number_or_name(path: str, value: str) -> list[FieldError]:
    """ValidatePortNumOrName of an int-or-string (held as its text)."""
    if value.lstrip("-").isdigit():
        return port_number(path, int(value))
    return port_name(path, value)


def _http_get(path: str, action: core_pb2.HTTPGetAction) -> list[FieldError]:
    errs: list[FieldError] = []
    if not action.path:
        errs.append(fields.required(f"{path}.path"))
    errs += port_number_or_name(f"{path}.port", action.port)
    if action.scheme not in HTTP_SCHEMES:
        errs.append(fields.unsupported(f"{path}.scheme", action.scheme, HTTP_SCHEMES))
    for header in action.http_headers:
        if not _HTTP_HEADER_NAME.match(header.name):
            errs.append(
                fields.invalid(
                    f"{path}.httpHeaders",
                    header.name,
                    "a valid HTTP header must consist of alphanumeric characters or '-' (e.g. "
                    "'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')",
                )
            )
    return errs


def handler(path: str, h: Handler, grace_period: int | None) -> list[FieldError]:
    """validateHandler: exactly one of exec, httpGet, tcpSocket, grpc (probes) and sleep
    (hooks), in that order; the later ones are reported as extra."""
    errs: list[FieldError] = []
    count = 0
    for name, json_name in (
        ("exec", "exec"),
        ("http_get", "httpGet"),
        ("tcp_socket", "tcpSocket"),
        ("grpc", "grpc"),
        ("sleep", "sleep"),
    ):
        if name not in h.DESCRIPTOR.fields_by_name or not h.HasField(name):
            continue
        p = f"{path}.{json_name}"
        if count:
            errs.append(fields.forbidden(p, _MORE_THAN_ONE))
            continue
        count += 1
        if isinstance(h, core_pb2.Probe) and name == "grpc":
            errs += port_number(f"{p}.port", h.grpc.port)
        elif name == "exec" and not h.exec.command:
            errs.append(fields.required(f"{p}.command"))
        elif name == "http_get":
            errs += _http_get(p, h.http_get)
        elif name == "tcp_socket":
            errs += port_number_or_name(f"{p}.port", h.tcp_socket.port)
        elif name == "sleep" and isinstance(h, core_pb2.LifecycleHandler):
            errs += _sleep(p, h.sleep.seconds, grace_period)
    if not count:
        errs.append(fields.required(path, "must specify a handler type"))
    return errs


def _sleep(path: str, seconds: int, grace_period: int | None) -> list[FieldError]:
    if grace_period is not None and not 0 < seconds <= grace_period:
        detail = (
            f"must be greater than 0 and less than terminationGracePeriodSeconds ({grace_period})"
        )
        return [fields.invalid(path, seconds, detail)]
    return []


def probe(path: str, p: core_pb2.Probe, grace_period: int | None) -> list[FieldError]:
    errs = handler(path, p, grace_period)
    for name, json_name in (
        ("initial_delay_seconds", "initialDelaySeconds"),
        ("timeout_seconds", "timeoutSeconds"),
        ("period_seconds", "periodSeconds"),
        ("success_threshold", "successThreshold"),
        ("failure_threshold", "failureThreshold"),
    ):
        errs += nonnegative(f"{path}.{json_name}", getattr(p, name))
    if p.HasField("termination_grace_period_seconds") and p.termination_grace_period_seconds <= 0:
        errs.append(
            fields.invalid(
                f"{path}.terminationGracePeriodSeconds",
                p.termination_grace_period_seconds,
                "must be greater than 0",
            )
        )
    return errs


def container_probes(
    path: str, c: core_pb2.Container | core_pb2.EphemeralContainer, grace_period: int | None
) -> list[FieldError]:
    """The liveness, readiness and startup probes of a container that may have them."""
    errs: list[FieldError] = []
    if c.HasField("liveness_probe"):
        p = f"{path}.livenessProbe"
        errs += probe(p, c.liveness_probe, grace_period)
        errs += _succeeds_once(p, c.liveness_probe)
    if c.HasField("readiness_probe"):
        p = f"{path}.readinessProbe"
        errs += probe(p, c.readiness_probe, grace_period)
        if c.readiness_probe.HasField("termination_grace_period_seconds"):
            errs.append(
                fields.invalid(
                    f"{p}.terminationGracePeriodSeconds",
                    c.readiness_probe.termination_grace_period_seconds,
                    "must not be set for readinessProbes",
                )
            )
    if c.HasField("startup_probe"):
        p = f"{path}.startupProbe"
        errs += probe(p, c.startup_probe, grace_period)
        errs += _succeeds_once(p, c.startup_probe)
    return errs


def _succeeds_once(path: str, p: core_pb2.Probe) -> list[FieldError]:
    if p.success_threshold != 1:
        return [fields.invalid(f"{path}.successThreshold", p.success_threshold, "must be 1")]
    return []


def lifecycle(path: str, hooks: core_pb2.Lifecycle, grace_period: int | None) -> list[FieldError]:
    errs: list[FieldError] = []
    if hooks.HasField("post_start"):
        errs += handler(f"{path}.postStart", hooks.post_start, grace_period)
    if hooks.HasField("pre_stop"):
        errs += handler(f"{path}.preStop", hooks.pre_stop, grace_period)
    return errs
