"""kubectl's printers: the table columns of each resource and the yaml/json/name outputs."""
