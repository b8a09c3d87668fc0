"""What the benches share: the devenv.nix they start from (the same as the tests' `project` fixture)."""

DEVENV_NIX = """{ pkgs, lib, config, ... }:

{
  env.GREET = "hello";

  packages = [ pkgs.git pkgs.jq ];

  languages.python.enable = true;

  processes.web.exec = "python -m http.server 8000";

  enterShell = ''
    echo "$GREET from devenv"
  '';
}
"""
