"""The in-tree plugins, one module each (the two resource plugins in noderesources/, what plugins
share in helper/), and the default profile that enables them with Kubernetes' default order and
score weights (kubernetes pkg/scheduler/framework/plugins/registry.go and
apis/config/v1/default_plugins.go)."""

from __future__ import annotations

from scheduler.framework.interfaces import WithFramework
from scheduler.framework.registry import Registry
from scheduler.framework.runtime import DEFAULT_SCHEDULER_NAME, PluginSpec, Profile
from scheduler.plugins import (
    defaultpreemption,
    imagelocality,
    interpodaffinity,
    nodeaffinity,
    nodename,
    nodeports,
    nodeready,
    nodeunschedulable,
    podtopologyspread,
    schedulinggates,
    tainttoleration,
    volumebinding,
)
from scheduler.plugins.noderesources import balanced_allocation
from scheduler.plugins.noderesources import fit as noderesources_fit


def in_tree_registry() -> Registry:
    return Registry(
        {
            schedulinggates.NAME: schedulinggates.new,
            nodeunschedulable.NAME: nodeunschedulable.new,
            nodename.NAME: nodename.new,
            tainttoleration.NAME: tainttoleration.new,
            nodeready.NAME: nodeready.new,
            nodeaffinity.NAME: nodeaffinity.new,
            noderesources_fit.NAME: noderesources_fit.new,
            balanced_allocation.NAME: balanced_allocation.new,
            nodeports.NAME: nodeports.new,
            podtopologyspread.NAME: podtopologyspread.new,
            interpodaffinity.NAME: interpodaffinity.new,
            imagelocality.NAME: imagelocality.new,
            volumebinding.NAME: volumebinding.new,
            defaultpreemption.NAME: WithFramework(defaultpreemption.new),
        }
    )


def default_profile(scheduler_name: str = DEFAULT_SCHEDULER_NAME) -> Profile:
    """SchedulingGates keeps gated pods out of the queue. Filters run in this order and the first
    to reject a node names the reason. NodeResourcesFit scores with its default strategy,
    LeastAllocated. DefaultPreemption runs when no node fits."""
    return Profile(
        scheduler_name=scheduler_name,
        plugins=(
            PluginSpec(schedulinggates.NAME),
            PluginSpec(nodeunschedulable.NAME),
            PluginSpec(nodename.NAME),
            PluginSpec(tainttoleration.NAME, weight=3),
            # Where Kubernetes' not-ready taint would be reported: with the other taints.
            PluginSpec(nodeready.NAME),
            PluginSpec(nodeaffinity.NAME, weight=2),
            PluginSpec(nodeports.NAME),
            PluginSpec(noderesources_fit.NAME, weight=1),
            PluginSpec(volumebinding.NAME),
            PluginSpec(podtopologyspread.NAME, weight=2),
            PluginSpec(interpodaffinity.NAME, weight=2),
            PluginSpec(defaultpreemption.NAME),
            PluginSpec(balanced_allocation.NAME, weight=1),
            PluginSpec(imagelocality.NAME, weight=1),
        ),
    )
