"""Which card category an attribute path belongs to, the vocabulary of risks, and the usual service ports."""

from __future__ import annotations

import posixpath
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
    "runs_on_commit",
    "new_code_source",
    "agent_permissions",
    "network_service",
    "secret_in_file",
    "env_changes_programs",
    "lookalike_letters",
    "reads_unreviewed_file",
    "unfree_or_insecure",
    "unparsed",
)
# Badge colour: error for what can take over the machine or the agent's leash, warning for the rest.
SEVERITY = {
    "runs_on_shell_entry": "warning",
    "runs_on_cd": "error",
    "runs_on_commit": "warning",
    "new_code_source": "error",
    "agent_permissions": "error",
    "network_service": "warning",
    "secret_in_file": "error",
    "env_changes_programs": "error",
    "lookalike_letters": "error",
    "reads_unreviewed_file": "warning",
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

# Language options that install packages from a registry each time the shell is entered: the packages'
# own install scripts (npm's postinstall, a setup.py) run then. Setting one is `runs_on_shell_entry`.
INSTALL_ON_ENTRY = {
    ("python", "venv.requirements"): "pip installs these requirements on shell entry (their setup code runs)",
    ("python", "poetry.install.enable"): "poetry installs the project's packages on shell entry",
    ("python", "uv.sync.enable"): "uv syncs the project's packages on shell entry",
    ("javascript", "npm.install.enable"): "npm installs packages on shell entry (their install scripts run)",
    ("javascript", "pnpm.install.enable"): "pnpm installs packages on shell entry (their install scripts run)",
    ("javascript", "yarn.install.enable"): "yarn installs packages on shell entry (their install scripts run)",
    ("javascript", "bun.install.enable"): "bun installs packages on shell entry (their install scripts run)",
}


def written_file_risk(name: str) -> tuple[str, str] | None:
    """(risk, why) for devenv's `files."<name>"`, which writes `name` into the project on shell entry,
    when that file runs code or is one the gate guards; None for any other file."""
    name = posixpath.normpath(name)
    if name.startswith(("../", "/")) or name == "..":
        return ("agent_permissions", f"writes {name}, outside the project, on shell entry")
    name = name.lower()  # the same file to a case-insensitive file system (macOS)
    if name.startswith(".git/hooks/"):
        return ("runs_on_commit", f"writes the git hook {name}: it runs on commit")
    if name == ".envrc":
        return ("runs_on_cd", "writes .envrc: direnv runs it on cd")
    if name == "omni-tui.toml":
        return ("agent_permissions", "writes omni-tui.toml, the gate's own configuration, on shell entry")
    if name in ("devenv.nix", "devenv.yaml", "devenv.yml", "devenv.local.nix", "devenv.lock"):
        return ("agent_permissions", f"writes {name}, which the gate guards, on shell entry: past the gate")
    return None


GIT_HOOK_COMMANDS = frozenset({"entry", "package", "files", "stages", "pass_filenames"})
"""A git hook's options that change what it runs, or when: a change to one is `runs_on_commit`."""

# Settings that make Nix take prebuilt binaries from another cache (devenv adds a `cachix.pull` cache's
# key to the trusted ones): code from there runs as if built here. Setting one is a `new_code_source`.
BINARY_CACHE_PATHS = frozenset(
    {
        ("cachix", "pull"),
        ("nix", "settings", "substituters"),
        ("nix", "settings", "extra-substituters"),
        ("nix", "settings", "trusted-substituters"),
        ("nix", "settings", "trusted-public-keys"),
        ("nix", "settings", "extra-trusted-public-keys"),
    }
)


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

# Environment variables that make the programs run in the shell do something else: run code or load
# libraries of the change's choosing, look for commands and modules elsewhere first, send or trust
# traffic elsewhere. An `env.*` that sets one raises `env_changes_programs`, with what it does.
PROGRAM_ENV = {
    "LD_PRELOAD": "every program loads this library first",
    "LD_AUDIT": "every program loads this library first",
    "LD_LIBRARY_PATH": "programs look for libraries here first",
    "DYLD_INSERT_LIBRARIES": "every program loads this library first (macOS)",
    "DYLD_LIBRARY_PATH": "programs look for libraries here first (macOS)",
    "BASH_ENV": "every bash script runs this file first",
    "ENV": "every sh runs this file first",
    "PROMPT_COMMAND": "bash runs this before every prompt",
    "ZDOTDIR": "zsh reads its startup files from here",
    "PATH": "commands are looked up here",
    "NODE_OPTIONS": "every node process takes these options (--require runs code)",
    "NODE_PATH": "node looks for modules here",
    "PYTHONSTARTUP": "interactive python runs this file first",
    "PYTHONPATH": "python imports modules from here first",
    "PERL5OPT": "every perl process takes these options",
    "PERL5LIB": "perl looks for modules here first",
    "RUBYOPT": "every ruby process takes these options",
    "RUBYLIB": "ruby looks for libraries here first",
    "JAVA_TOOL_OPTIONS": "every JVM takes these options (-javaagent runs code)",
    "_JAVA_OPTIONS": "every JVM takes these options",
    "GIT_SSH_COMMAND": "git runs this for every ssh connection",
    "GIT_SSH": "git runs this for every ssh connection",
    "GIT_EXEC_PATH": "git runs its subcommands from here",
    "GIT_ASKPASS": "git runs this to ask for credentials",
    "SSH_ASKPASS": "ssh runs this to ask for credentials",
    "GIT_CONFIG_GLOBAL": "git reads this file as its global configuration",
    "GIT_CONFIG_SYSTEM": "git reads this file as its system configuration",
    "GIT_CONFIG_COUNT": "git takes configuration from the environment (GIT_CONFIG_KEY_n)",
    "GIT_EDITOR": "git runs this as the editor",
    "EDITOR": "tools run this as the editor",
    "VISUAL": "tools run this as the editor",
    "PAGER": "tools run this as the pager",
    "GIT_PAGER": "git runs this as the pager",
    "MANPAGER": "man runs this as the pager",
    "LESSOPEN": "less runs this on every file it opens",
    "BROWSER": "tools run this to open links",
    "http_proxy": "HTTP traffic goes through this proxy",
    "HTTP_PROXY": "HTTP traffic goes through this proxy",
    "https_proxy": "HTTPS traffic goes through this proxy",
    "HTTPS_PROXY": "HTTPS traffic goes through this proxy",
    "all_proxy": "traffic goes through this proxy",
    "ALL_PROXY": "traffic goes through this proxy",
    "SSL_CERT_FILE": "TLS trusts the certificates in this file",
    "SSL_CERT_DIR": "TLS trusts the certificates in this folder",
    "NIX_SSL_CERT_FILE": "Nix trusts the certificates in this file",
    "REQUESTS_CA_BUNDLE": "python requests trusts the certificates in this file",
    "CURL_CA_BUNDLE": "curl trusts the certificates in this file",
    "NODE_EXTRA_CA_CERTS": "node trusts the certificates in this file too",
    "GIT_SSL_NO_VERIFY": "git stops checking TLS certificates",
    "NODE_TLS_REJECT_UNAUTHORIZED": "node stops checking TLS certificates when 0",
    "PYTHONHTTPSVERIFY": "python stops checking TLS certificates when 0",
    "NIX_PATH": "Nix looks up <nixpkgs> and other <paths> here",
}
PROGRAM_ENV_PREFIXES = {"GIT_CONFIG_KEY_": "git takes this configuration key", "GIT_CONFIG_VALUE_": "git takes this configuration value"}


def program_env(name: str) -> str | None:
    """What setting the environment variable `name` does to the programs run in the shell, if it is one
    that makes them run code, load libraries, look elsewhere, or send or trust traffic elsewhere."""
    if name in PROGRAM_ENV:
        return PROGRAM_ENV[name]
    return next((what for prefix, what in PROGRAM_ENV_PREFIXES.items() if name.startswith(prefix)), None)


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
