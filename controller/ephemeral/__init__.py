"""The ephemeral volume controller: the claims of pods' generic ephemeral volumes."""
