"""Serving a channel to AI assistants: `kbctl mcp` (CONTRACT 9)."""
