"""What plugins share that is no plugin itself (kubernetes framework/plugins/helper)."""
