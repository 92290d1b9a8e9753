"""The cluster's records: query names parsed (names.py), answered from the informers' caches
(cache.py, records.py)."""
