"""Stand-in servers for devenv's native process manager and process-compose (neither can be installed here).

They follow `../shared/reference/PROCESS_BACKENDS.md` and the process-compose OpenAPI spec to the letter
over real Unix sockets, and can be told to misbehave: hang, close mid-line, send garbage, answer errors.
"""
