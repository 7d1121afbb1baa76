"""The MCP server: AI assistants work the desk through tenant-scoped tools (see server.py)."""
