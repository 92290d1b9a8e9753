"""imagePullPolicy decisions and the pull back-off: Always / IfNotPresent / Never, ErrImagePull,
then ImagePullBackOff for 10 s doubling to 5 min, per pod and image."""

from __future__ import annotations

import pytest

from kubelet.container.backoff import Backoff
from kubelet.container.images import ImageError, ImagePuller
from kubelet.runtime.hollow import HollowRuntime
from tests.unit.kubelet.podbuild import container


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def puller(pullable: tuple[str, ...] = ()) -> tuple[ImagePuller, HollowRuntime, Clock]:
    clock = Clock()
    runtime = HollowRuntime(pullable=pullable)
    return ImagePuller(runtime, Backoff(clock=clock)), runtime, clock


def pulls(runtime: HollowRuntime) -> list[str]:
    return [image for call, image in runtime.calls if call == "pull_image"]


@pytest.mark.parametrize(
    ("image", "policy", "pulled"),
    [
        ("busybox:latest", "IfNotPresent", False),
        ("busybox:latest", "Never", False),
        ("busybox:latest", "Always", True),
        ("busybox:latest", "", True),  # :latest defaults to Always
        ("web:1", "IfNotPresent", True),  # not present: pulled
        ("web:1", "", True),  # a tag defaults to IfNotPresent
    ],
)
async def test_pull_policy(image: str, policy: str, pulled: bool) -> None:
    p, runtime, _ = puller(pullable=("busybox:latest", "web:1"))
    announced: list[str] = []
    info, was_pulled = await p.ensure(
        "uid",
        container("a", image=image, image_pull_policy=policy),
        on_pull=lambda: announced.append(image),
    )
    assert info.id and was_pulled == pulled
    assert pulls(runtime) == announced == ([image] if pulled else [])


async def test_never_and_missing_is_err_image_never_pull() -> None:
    p, runtime, _ = puller()
    with pytest.raises(ImageError) as e:
        await p.ensure("uid", container("a", image="web:1", image_pull_policy="Never"))
    assert e.value.reason == "ErrImageNeverPull"
    assert e.value.message == 'Container image "web:1" is not present with pull policy of Never'
    assert pulls(runtime) == []


async def test_failed_pulls_back_off_doubling_to_five_minutes() -> None:
    p, runtime, clock = puller()
    c = container("a", image="nosuch/image:1")
    seen = []
    for _ in range(16):
        try:
            await p.ensure("uid", c)
        except ImageError as e:
            seen.append((e.reason, round(e.retry_after)))
            clock.now += e.retry_after if e.reason == "ImagePullBackOff" else 1
    errs = [retry for reason, retry in seen if reason == "ErrImagePull"]
    assert errs[:7] == [10, 20, 40, 80, 160, 300, 300]
    assert seen[0][0] == "ErrImagePull" and seen[1] == ("ImagePullBackOff", 9)
    assert len(pulls(runtime)) == len(errs)  # no pull while backing off


async def test_back_off_messages_and_keys_per_pod() -> None:
    p, _, _ = puller()
    c = container("a", image="nosuch/image:1")
    with pytest.raises(ImageError, match='Failed to pull image "nosuch/image:1": pull access'):
        await p.ensure("uid-1", c)
    with pytest.raises(ImageError, match='Back-off pulling image "nosuch/image:1"'):
        await p.ensure("uid-1", c)
    with pytest.raises(ImageError) as e:  # another pod: its own back-off
        await p.ensure("uid-2", c)
    assert e.value.reason == "ErrImagePull"
    p.backoff.forget("uid-1")
    with pytest.raises(ImageError) as e:
        await p.ensure("uid-1", c)
    assert e.value.reason == "ErrImagePull"
