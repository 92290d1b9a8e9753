"""The PVC protection controller (kubernetes pkg/controller/volume/pvcprotection)."""
