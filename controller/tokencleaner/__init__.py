"""The token cleaner (kubernetes pkg/controller/bootstrap/tokencleaner.go)."""
