"""One module per verb: each declares its flags and runs the verb through the library modules."""
