"""CustomResourceDefinitions as every component reads them (definitions.py): their conditions,
versions and names, and the Resource each served version is. What a version's schema does to
objects is podplane.apimachinery.structural's."""
