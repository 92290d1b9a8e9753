"""HAProxy as the data plane: its configuration rendered from the routes (config.py), the
certificates' files (certificates.py) and the master process reloaded on change (process.py)."""
