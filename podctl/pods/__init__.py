"""Which pod and container a verb reads, and ephemeral containers for podctl debug."""
