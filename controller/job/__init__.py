"""The Job controller (kubernetes pkg/controller/job) and its failure back-off."""
