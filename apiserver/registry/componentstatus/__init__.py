"""v1 ComponentStatus (kubernetes pkg/registry/core/componentstatus): computed on each read from
probes of the control plane's components, never stored."""
