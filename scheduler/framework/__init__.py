"""The scheduling framework: extension points, plugin registry, statuses and the runtime that runs
the enabled plugins (kubernetes pkg/scheduler/framework). It never imports a plugin by name."""
