"""Which card category an attribute path belongs to, the vocabulary of risks, and the usual service ports."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only a type here: the config's [policy] check imports this module at every start
    from omni_tui.core.card.nixfacts import Path

# The card's JSON keys, in the order they are shown. The contract: docs/protocol.md.
CATEGORIES = (
    "packages",
    "languages",
    "services",
    "processes",
    "env",
    "scripts",
    "tasks",
    "shell_hooks",
    "git_hooks",
    "imports",
    "inputs",
    "agent_settings",
    "files",
    "other",
)
# The groups inside each category.
GROUPS: dict[str, tuple[str, ...]] = {
    "packages": ("added", "removed"),
    "imports": ("added", "removed"),
    "languages": ("enabled", "disabled", "changed"),
    "services": ("enabled", "disabled", "changed"),
}
DEFAULT_GROUPS = ("added", "removed", "changed")

RISKS = (
    "runs_on_shell_entry",
    "runs_on_cd",
    "new_code_source",
    "agent_permissions",
    "network_service",
    "secret_in_file",
    "lookalike_letters",
    "unfree_or_insecure",
    "unparsed",
)
# Badge colour: error for what can take over the machine or the agent's leash, warning for the rest.
SEVERITY = {
    "runs_on_shell_entry": "warning",
    "runs_on_cd": "error",
    "new_code_source": "error",
    "agent_permissions": "error",
    "network_service": "warning",
    "secret_in_file": "error",
    "lookalike_letters": "error",
    "unfree_or_insecure": "warning",
    "unparsed": "warning",
}

# The usual port of the common devenv services (services.<name>), shown next to an enabled service.
SERVICE_PORTS = {
    "adminer": 8080,
    "beanstalkd": 11300,
    "caddy": 2019,
    "cassandra": 9042,
    "clickhouse": 9000,
    "cockroachdb": 26257,
    "couchdb": 5984,
    "dynamodb-local": 8000,
    "elasticmq": 9324,
    "elasticsearch": 9200,
    "garage": 3900,
    "httpbin": 8080,
    "influxdb": 8086,
    "jaeger": 16686,
    "kafka": 9092,
    "keycloak": 8080,
    "mailhog": 8025,
    "mailpit": 8025,
    "meilisearch": 7700,
    "memcached": 11211,
    "minio": 9000,
    "mongodb": 27017,
    "mysql": 3306,
    "nats": 4222,
    "nginx": 80,
    "opensearch": 9200,
    "opentelemetry-collector": 4317,
    "postgres": 5432,
    "prometheus": 9090,
    "rabbitmq": 5672,
    "redis": 6379,
    "redpanda": 9092,
    "spicedb": 50051,
    "tempo": 3200,
    "temporal": 7233,
    "trafficserver": 8080,
    "typesense": 8108,
    "varnish": 6081,
    "vault": 8200,
    "wiremock": 8080,
    "zookeeper": 2181,
}
PORT_OPTIONS = ("port", "listenPort", "listen_port", "httpPort", "http_port", "bind", "listen", "listen_address", "listenAddress")

# Options that configure an AI agent (its hooks, permissions, MCP servers): the agent_settings category.
AGENT_ROOTS = ("claude", "codex", "gemini", "opencode", "cursor", "aider", "copilot", "goose", "amp", "mcp", "crush")
AGENT_KEYS = frozenset({"mcpServers", "mcp_servers", "mcp"})
AGENT_FILES = (
    ".claude/",
    ".codex/",
    ".gemini/",
    ".cursor/",
    ".opencode/",
    ".mcp.json",
    "CLAUDE.md",
    "AGENTS.md",
    "GEMINI.md",
    "opencode.json",
)

UNFREE_KEYS = frozenset(
    {
        "allowUnfree",
        "allow_unfree",
        "permittedInsecurePackages",
        "permitted_insecure_packages",
        "allowBroken",
        "allow_broken",
        "allowInsecurePredicate",
        "allowUnfreePredicate",
        "allowNonSource",
    }
)


def is_agent_path(path: Path) -> bool:
    if path and path[0] in AGENT_ROOTS:
        return True
    if any(p in AGENT_KEYS for p in path):
        return True
    # devenv's `files."<name>"` writes files into the project: an agent's settings file is agent_settings.
    return len(path) >= 2 and path[0] == "files" and path[1].startswith(AGENT_FILES)


@lru_cache(maxsize=65536)  # the same paths come back in every version of a file
def nix_category(path: Path) -> tuple[str, str] | None:
    """(category, entity name) for a devenv.nix path; None for `other`. Entity "" = the path itself."""
    if not path:
        return None
    head = path[0]
    if is_agent_path(path):
        return ("agent_settings", ".".join(path))
    if head == "packages" and len(path) == 1:
        return ("packages", "")
    if head == "imports" and len(path) == 1:
        return ("imports", "")
    if head in ("enterShell", "enterTest") and len(path) == 1:
        return ("shell_hooks", head)
    if head in ("git-hooks", "pre-commit"):
        if len(path) >= 3 and path[1] == "hooks":
            return ("git_hooks", path[2])
        return ("git_hooks", ".".join(path))
    if len(path) >= 2 and head in ("languages", "services", "processes", "scripts", "tasks"):
        return (head, path[1])
    if head == "env" and len(path) >= 2:
        return ("env", ".".join(path[1:]))
    return None


@lru_cache(maxsize=4096)
def yaml_category(path: Path) -> tuple[str, str] | None:
    if not path:
        return None
    if path[0] == "inputs" and len(path) >= 2:
        return ("inputs", path[1])
    if path == ("imports",):
        return ("imports", "")
    if path[-1] in UNFREE_KEYS:
        return ("inputs", ".".join(path))
    return None
