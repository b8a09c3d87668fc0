"""The error types of the domain. Every message is one line that names the problem."""


class OmniError(Exception):
    """Base of every expected failure; `str(err)` is a one-line message fit for a user."""


class WorkspaceError(OmniError):
    """No devenv project could be found, or its state directory is unusable."""


class ConfigError(OmniError):
    """omni-tui.toml or [tool.omni-tui] has an unknown key or a wrong type."""


class PathError(OmniError):
    """A path escapes the project root or is not a guarded file."""


class ProposalError(OmniError):
    """A proposal document is malformed or its content is unacceptable."""


class PatchError(OmniError):
    """A patch does not apply to the file it names."""


class GateError(OmniError):
    """The gate refuses an operation (wrong state, another rebuild running, ...)."""


class RebuildError(OmniError):
    """The rebuild cannot start (no command configured, devenv missing, ...)."""


class BackendError(OmniError):
    """A process backend did not answer, answered garbage, or refused a request."""


class ValidationError(OmniError):
    """Content is not acceptable: not UTF-8, over the size limit, or not valid Nix."""


class AuditError(OmniError):
    """The audit log cannot be read or appended to."""


class LockBusyError(GateError):
    """Another apply or rebuild holds the gate lock."""
