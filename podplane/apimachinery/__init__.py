"""The API's own rules, as apimachinery holds them: the kinds the API serves (resources), what
every kind's messages share (meta), manifests (manifest), the names for decoded JSON
(json_types), quantities, label and field selectors, times, and helpers over the API's types
(conditions, tolerations, images, ephemeral containers)."""
