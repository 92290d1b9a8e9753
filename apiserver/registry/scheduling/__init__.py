"""The scheduling kinds' storage concerns beyond the generic store: the system priority classes
stored at start."""
