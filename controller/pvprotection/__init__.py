"""The PV protection controller (kubernetes pkg/controller/volume/pvprotection)."""
