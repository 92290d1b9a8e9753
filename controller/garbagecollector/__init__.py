"""The garbage collector (kubernetes pkg/controller/garbagecollector)."""
