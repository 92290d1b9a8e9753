"""Who is calling (authentication), what they may do (authorization), and the admission checks that
depend on the caller."""
