"""The fuzzer of both front doors: valid objects of every served kind (samples.py), mutated the
ways a careless client or an attacker would send them, and the answers held to Kubernetes' rules
(never a 5xx, every refusal a Status whose reason is its code's). A fast slice runs in the
integration suite; `make fuzz` runs the long one (python -m tests.fuzz)."""
