{ pkgs, lib, config, ... }:

{
  # The environment omni-tui itself is developed in.
  packages = [ pkgs.nix pkgs.just pkgs.tmux pkgs.git ];

  languages.python = {
    enable = true;
    package = pkgs.python311;
    venv.enable = true;
  };

  env.OMNI_TUI_REQUIRE_NIX = "1";

  scripts.omni-test.exec = "scripts/test \"$@\"";
  scripts.omni-demo.exec = "scripts/demo \"$@\"";
  scripts.omni-bench.exec = "just bench";

  # `devenv up` runs a demo cockpit's supporting processes for manual testing.
  processes.docs-server.exec = "python -m http.server 8765 --directory docs";

  enterShell = ''
    scripts/setup
    echo "omni-tui dev shell: omni-test, omni-demo, omni-bench"
  '';
}
