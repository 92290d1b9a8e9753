"""Bootstrap token controllers (kubernetes pkg/controller/bootstrap): the token cleaner."""
