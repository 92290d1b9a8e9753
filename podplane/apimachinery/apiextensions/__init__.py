"""CustomResourceDefinitions as every component reads them: their versions and names
(definitions.py) and what a version's schema does to objects (schema.py)."""
