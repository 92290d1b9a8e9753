"""Flow control: how many requests the apiserver serves at once, and whose go first, decided the
same for every front door. API Priority and Fairness (priority_and_fairness.py, the default) queues
requests fairly per priority level and flow; the max-in-flight guard (max_inflight.py,
--enable-priority-and-fairness=false) refuses what is over a fixed limit."""
