"""The persistent volume controller (kubernetes pkg/controller/volume/persistentvolume)."""
