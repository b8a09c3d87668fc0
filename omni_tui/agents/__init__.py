"""Agent integrations: the Claude Code, Codex and Gemini CLI hooks (on `gatekeep`) and the MCP server.

The hooks' default waits live here so that building the CLI parser does not import the hook modules.
"""

# Each agent kills its hook at its own timeout and then lets the edit through: the hook answers first.
CLAUDE_CODE_TIMEOUT_S = 570.0  # Claude Code's command-hook timeout: 600 s
CODEX_TIMEOUT_S = 570.0  # Codex's hook timeout: 600 s
GEMINI_TIMEOUT_S = 50.0  # Gemini CLI's hook timeout: 60000 ms
