"""Patches, as Kubernetes applies and computes them: JSON patch (RFC 6902, jsonpatch), JSON merge
patch (RFC 7386, mergepatch) and strategic merge patch (strategic, strategic_order,
strategic_diff), over the field metadata of the protos (schema)."""
