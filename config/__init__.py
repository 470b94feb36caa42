"""Settings and LA profiles."""
