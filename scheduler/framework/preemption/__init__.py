"""Preemption for PostFilter plugins (kubernetes pkg/scheduler/framework/preemption): the
evaluator that finds and picks a node to make room on (evaluator.py, candidates.py), what it
reads of PodDisruptionBudgets (disruption_budgets.py), and the writes that evict the victims
(executor.py)."""
