"""`omni-tui demo`: a throwaway devenv workspace with real processes, a real (or plainly simulated)
Nix rebuild and a scripted agent, supervised in the real cockpit. `session.run_demo` is the entry."""
