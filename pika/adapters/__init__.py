"""Connection adapters: one per event loop, plus the blocking API."""
