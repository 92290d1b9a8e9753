"""Rescaling raw scores into 0..100 (kubernetes plugins/helper DefaultNormalizeScore)."""

from __future__ import annotations

from scheduler.framework.types import MAX_NODE_SCORE


def default_normalize_score(
    scores: dict[str, int], *, reverse: bool = False, max_priority: int = MAX_NODE_SCORE
) -> None:
    """Scales so the highest raw score becomes max_priority; with reverse, the highest becomes 0
    (and all become max_priority when every raw score is 0)."""
    highest = max(scores.values(), default=0)
    if highest == 0:
        if reverse:
            for name in scores:
                scores[name] = max_priority
        return
    for name, score in scores.items():
        scaled = max_priority * score // highest
        scores[name] = max_priority - scaled if reverse else scaled
