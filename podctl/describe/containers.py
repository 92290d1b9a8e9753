"""The Containers and Init Containers sections of `describe pod`."""

from __future__ import annotations

import math
from collections.abc import Sequence

from podctl.describe.common import format_time
from podctl.describe.writer import LEVEL_0, LEVEL_1, LEVEL_2, LEVEL_3, PrefixWriter
from podplane.api.core.v1 import core_pb2
from podplane.apimachinery import quantity

# An ephemeral container has a container's fields (Kubernetes' EphemeralContainerCommon).
AnyContainer = core_pb2.Container | core_pb2.EphemeralContainer


def _bool(value: bool) -> str:
    return "True" if value else "False"


def _ports(container: AnyContainer, host: bool) -> str:
    out = []
    for p in container.ports:
        text = f"{p.host_port if host else p.container_port}/{p.protocol or 'TCP'}"
        out.append(f"{text} ({p.name})" if p.name else text)
    return ", ".join(out)


def _write_ports(w: PrefixWriter, container: AnyContainer) -> None:
    for label, host in (("Port", False), ("Host Port", True)):
        ports = _ports(container, host)
        if "," in ports:
            w.write(LEVEL_2, f"{label}s:\t{ports}\n")
        else:
            w.write(LEVEL_2, f"{label}:\t{ports or '<none>'}\n")


def _write_command(w: PrefixWriter, container: AnyContainer) -> None:
    for title, words in (("Command", container.command), ("Args", container.args)):
        if words:
            w.write(LEVEL_2, f"{title}:\n")
            for word in words:
                for line in word.split("\n"):
                    w.write(LEVEL_3, f"{line}\n")


def write_state(w: PrefixWriter, title: str, state: core_pb2.ContainerState) -> None:
    if state.HasField("running"):
        w.write(LEVEL_2, f"{title}:\tRunning\n")
        w.write(LEVEL_3, f"Started:\t{format_time(state.running.started_at)}\n")
    elif state.HasField("terminated"):
        t = state.terminated
        w.write(LEVEL_2, f"{title}:\tTerminated\n")
        if t.reason:
            w.write(LEVEL_3, f"Reason:\t{t.reason}\n")
        if t.message:
            w.write(LEVEL_3, f"Message:\t{t.message}\n")
        w.write(LEVEL_3, f"Exit Code:\t{t.exit_code}\n")
        if t.signal > 0:
            w.write(LEVEL_3, f"Signal:\t{t.signal}\n")
        w.write(LEVEL_3, f"Started:\t{format_time(t.started_at)}\n")
        w.write(LEVEL_3, f"Finished:\t{format_time(t.finished_at)}\n")
    else:
        w.write(LEVEL_2, f"{title}:\tWaiting\n")
        if state.HasField("waiting") and state.waiting.reason:
            w.write(LEVEL_3, f"Reason:\t{state.waiting.reason}\n")


def write_resources(w: PrefixWriter, resources: core_pb2.ResourceRequirements, level: int) -> None:
    for title, values in (("Limits", resources.limits), ("Requests", resources.requests)):
        if values:
            w.write(level, f"{title}:\n")
        for name in sorted(values):
            w.write(level + 1, f"{name}:\t{values[name]}\n")


def describe_probe(probe: core_pb2.Probe) -> str:
    attrs = (
        f"delay={probe.initial_delay_seconds}s timeout={probe.timeout_seconds}s "
        f"period={probe.period_seconds}s #success={probe.success_threshold} "
        f"#failure={probe.failure_threshold}"
    )
    if probe.HasField("exec"):
        return f"exec [{' '.join(probe.exec.command)}] {attrs}"
    if probe.HasField("http_get"):
        get = probe.http_get
        host = f"[{get.host}]" if ":" in get.host else get.host
        hostport = f"{host}:{get.port}" if get.port else host
        scheme = f"{get.scheme.lower()}:" if get.scheme else ""
        path = get.path if not get.path or get.path.startswith("/") else "/" + get.path
        return f"http-get {scheme}//{hostport}{path} {attrs}"
    if probe.HasField("tcp_socket"):
        return f"tcp-socket {probe.tcp_socket.host}:{probe.tcp_socket.port} {attrs}"
    return f"unknown {attrs}"


def _write_probes(w: PrefixWriter, container: AnyContainer) -> None:
    for title, field in (
        ("Liveness", "liveness_probe"),
        ("Readiness", "readiness_probe"),
        ("Startup", "startup_probe"),
    ):
        if container.HasField(field):
            w.write(LEVEL_2, f"{title}:\t{describe_probe(getattr(container, field))}\n")


def _field_value(pod: core_pb2.Pod, path: str) -> str:
    """The downward API's value of a pod field (kubectl's EnvValueRetriever)."""
    simple = {
        "metadata.name": pod.metadata.name,
        "metadata.namespace": pod.metadata.namespace,
        "metadata.uid": pod.metadata.uid,
        "spec.nodeName": pod.spec.node_name,
        "spec.serviceAccountName": pod.spec.service_account_name,
        "status.hostIP": pod.status.host_ip,
        "status.podIP": pod.status.pod_ip,
    }
    if path in simple:
        return str(simple[path])
    for prefix, values in (
        ("metadata.labels", pod.metadata.labels),
        ("metadata.annotations", pod.metadata.annotations),
    ):
        if path.startswith(prefix + "['") and path.endswith("']"):
            return str(values.get(path[len(prefix) + 2 : -2], ""))
    return ""


def _resource_value(container: AnyContainer, ref: core_pb2.ResourceFieldSelector) -> str:
    """A container's limit or request as the downward API exposes it, rounded up to the divisor."""
    kind, _, name = ref.resource.partition(".")
    values = container.resources.limits if kind == "limits" else container.resources.requests
    raw = values.get(name, "0")
    try:
        divisor = quantity.parse(ref.divisor or "1")
        return str(math.ceil(quantity.parse(raw) / divisor)) if divisor else "0"
    except quantity.QuantityError:
        return ""


def _write_env(w: PrefixWriter, container: AnyContainer, pod: core_pb2.Pod | None) -> None:
    if container.env_from:
        w.write(LEVEL_2, "Environment Variables from:\n")
        for env_from in container.env_from:
            from_config_map = env_from.HasField("config_map_ref")
            ref: core_pb2.ConfigMapEnvSource | core_pb2.SecretEnvSource = (
                env_from.config_map_ref if from_config_map else env_from.secret_ref
            )
            origin = "ConfigMap" if from_config_map else "Secret"
            optional = "true" if ref.optional else "false"
            if env_from.prefix:
                origin = f"{origin} with prefix '{env_from.prefix}'"
            w.write(LEVEL_3, f"{ref.name}\t{origin}\tOptional: {optional}\n")
    w.write(LEVEL_2, "Environment:" + ("" if container.env else "\t<none>") + "\n")
    for e in container.env:
        if not e.HasField("value_from"):
            for i, line in enumerate(e.value.split("\n")):
                w.write(LEVEL_3, f"{e.name}:\t{line}\n" if i == 0 else f"\t{line}\n")
            continue
        source = e.value_from
        if source.HasField("field_ref"):
            field = source.field_ref
            value = _field_value(pod, field.field_path) if pod is not None else ""
            w.write(
                LEVEL_3, f"{e.name}:\t{value} ({field.api_version or 'v1'}:{field.field_path})\n"
            )
        elif source.HasField("resource_field_ref"):
            resource = source.resource_field_ref
            value = _resource_value(container, resource)
            if value == "0" and resource.resource in ("limits.cpu", "limits.memory"):
                value = "node allocatable"
            w.write(LEVEL_3, f"{e.name}:\t{value} ({resource.resource})\n")
        elif source.HasField("secret_key_ref"):
            secret_key = source.secret_key_ref
            optional = "true" if secret_key.optional else "false"
            w.write(
                LEVEL_3,
                f"{e.name}:\t<set to the key '{secret_key.key}' in secret "
                f"'{secret_key.name}'>\tOptional: {optional}\n",
            )
        elif source.HasField("config_map_key_ref"):
            config_map_key = source.config_map_key_ref
            optional = "true" if config_map_key.optional else "false"
            w.write(
                LEVEL_3,
                f"{e.name}:\t<set to the key '{config_map_key.key}' of config map "
                f"'{config_map_key.name}'>\tOptional: {optional}\n",
            )


def _write_mounts(w: PrefixWriter, container: AnyContainer) -> None:
    w.write(LEVEL_2, "Mounts:" + ("" if container.volume_mounts else "\t<none>") + "\n")
    for m in sorted(container.volume_mounts, key=lambda m: m.mount_path):
        flags = ["ro" if m.read_only else "rw"]
        if m.sub_path:
            flags.append(f'path="{m.sub_path}"')
        w.write(LEVEL_3, f"{m.mount_path} from {m.name} ({','.join(flags)})\n")


def write_containers(
    w: PrefixWriter,
    title: str,
    containers: Sequence[AnyContainer],
    statuses: Sequence[core_pb2.ContainerStatus],
    pod: core_pb2.Pod | None,
    space: str = "",
) -> None:
    """`pod` is None for a pod template (its field references have no values yet); `space`
    indents the section inside a template, as kubectl's describeContainers."""
    by_name = {s.name: s for s in statuses}
    w.write(LEVEL_0, f"{space}{title}:" + ("" if containers else " <none>") + "\n")
    name_indent = " " if space else ""
    for c in containers:
        status = by_name.get(c.name)
        w.write(LEVEL_1, f"{name_indent}{c.name}:\n")
        if status is not None:
            w.write(LEVEL_2, f"Container ID:\t{status.container_id}\n")
        w.write(LEVEL_2, f"Image:\t{c.image}\n")
        if status is not None:
            w.write(LEVEL_2, f"Image ID:\t{status.image_id}\n")
        _write_ports(w, c)
        _write_command(w, c)
        if status is not None:
            write_state(w, "State", status.state)
            if status.last_state.HasField("terminated"):
                write_state(w, "Last State", status.last_state)
            w.write(LEVEL_2, f"Ready:\t{_bool(status.ready)}\n")
            w.write(LEVEL_2, f"Restart Count:\t{status.restart_count}\n")
        write_resources(w, c.resources, LEVEL_2)
        _write_probes(w, c)
        _write_env(w, c, pod)
        _write_mounts(w, c)
