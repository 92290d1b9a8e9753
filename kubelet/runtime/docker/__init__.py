"""Docker behind the runtime interface (kubelet/runtime/types.py): the runtime itself
(runtime.py), the labels and names it gives what it creates, its inspect cache, and its streams
(logs, attach, interactive exec and attach, port-forward) over the engine's hijacked connections."""
