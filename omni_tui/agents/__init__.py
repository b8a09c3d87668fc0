"""Agent integrations: the Claude Code hook and the MCP server."""
