"""The strategies of the kinds, one module per API group (kubernetes pkg/registry/<group>/)."""
