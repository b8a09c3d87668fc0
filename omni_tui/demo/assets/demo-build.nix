# The demo's rebuild: evaluates the proposed devenv.nix the way devenv would
# (a module function called with `pkgs`, `lib` and `config`) and builds a small
# environment from what it declares: one derivation per package, the Python
# interpreter, one config per enabled service, the process list and the shell
# profile. Offline and self-contained: `pkgs` is a set of tiny /bin/sh
# derivations named after real nixpkgs attributes, so a typo in a package name
# fails as Nix reports a missing attribute, a syntax error fails as Nix parses
# it, and a package whose build is broken (mysql57) fails in its builder.
#
#   nix-build --option substituters '' --log-format internal-json -v \
#     --no-out-link demo-build.nix --argstr salt <per-workspace token>
#
# `salt` keeps one demo workspace's builds apart from another's, so every demo
# really builds instead of finding last run's outputs in the store. Each build
# step pauses `stepDelay` seconds ($OMNI_TUI_DEMO_BUILD_DELAY, default 0.25) so a
# person can follow the progress; tests make it short.
{ salt ? "omni-tui-demo"
, stepDelay ? (let d = builtins.getEnv "OMNI_TUI_DEMO_BUILD_DELAY"; in if d == "" then "0.25" else d)
}:

let
  system = builtins.currentSystem;

  # One pretend build phase: a log line the cockpit streams, then a short pause
  # so "building N of M" is visible. `sleep` is optional (a strict sandbox may
  # not have it); the shell builtins carry the rest.
  phases = lines: builtins.concatStringsSep "\n" (map (l: ''
    echo "${l}"
    if command -v sleep >/dev/null 2>&1; then sleep ${stepDelay}; fi
  '') lines);

  mkPackage = { pname, version, broken ? null }: derivation {
    name = "${pname}-${version}";
    inherit system salt pname version;
    builder = "/bin/sh";
    PATH = "/usr/bin:/bin";
    args = [ "-c" (if broken == null then ''
      ${phases [
        "unpacking sources for ${pname}-${version}"
        "configuring ${pname} (prefix=$out)"
        "building ${pname}: compiling 24 objects"
        "installing ${pname} into the store"
      ]}
      printf '%s\n' "${pname} ${version} (omni-tui demo build)" > "$out"
    '' else ''
      ${phases [ "unpacking sources for ${pname}-${version}" "configuring ${pname}" ]}
      ${broken}
      exit 1
    '') ];
  };

  # Packages the demo workspace and the scripted agent use, with nixpkgs' names.
  pkgs = builtins.mapAttrs (attr: p: mkPackage p) {
    git = { pname = "git"; version = "2.47.1"; };
    jq = { pname = "jq"; version = "1.7.1"; };
    curl = { pname = "curl"; version = "8.11.0"; };
    ripgrep = { pname = "ripgrep"; version = "14.1.1"; };
    fd = { pname = "fd"; version = "10.2.0"; };
    just = { pname = "just"; version = "1.37.0"; };
    httpie = { pname = "httpie"; version = "3.2.4"; };
    htop = { pname = "htop"; version = "3.3.0"; };
    openssl = { pname = "openssl"; version = "3.3.2"; };
    sqlite = { pname = "sqlite"; version = "3.46.1"; };
    uv = { pname = "uv"; version = "0.5.4"; };
    nodejs_20 = { pname = "nodejs"; version = "20.18.1"; };
    python311 = { pname = "python3"; version = "3.11.10"; };
    python312 = { pname = "python3"; version = "3.12.7"; };
    redis = { pname = "redis"; version = "7.2.6"; };
    postgresql = { pname = "postgresql"; version = "16.5"; };
    # The 5.7 series needs exactly Boost 1.59, which nixpkgs no longer carries:
    # its configure step fails the way the real one does.
    mysql57 = {
      pname = "mysql"; version = "5.7.44";
      broken = ''
        echo "-- Running cmake version 3.30.5"
        echo "-- Found Boost 1.86.0 in /nix/store/boost-1.86.0/include"
        echo "CMake Error at cmake/boost.cmake:88 (MESSAGE):"
        echo "  You can download it with -DDOWNLOAD_BOOST=1 -DWITH_BOOST=<directory>"
        echo "  This CMake script will look for boost in <directory>.  If it is not there,"
        echo "  it will download and unpack it (in that directory) for you."
        echo "  MySQL 5.7 requires exactly Boost 1.59.0, found 1.86.0"
        echo "-- Configuring incomplete, errors occurred!"
      '';
    };
  };

  # The parts of nixpkgs' `lib` a devenv.nix commonly reaches for.
  lib = builtins // {
    mkIf = cond: value: if cond then value else { };
    mkDefault = value: value;
    mkForce = value: value;
    optional = cond: value: if cond then [ value ] else [ ];
    optionals = cond: values: if cond then values else [ ];
    optionalString = cond: s: if cond then s else "";
    attrValues = builtins.attrValues;
    mapAttrsToList = f: set: map (n: f n set.${n}) (builtins.attrNames set);
  };

  # devenv passes the module its own final configuration; here that is the
  # module's result plus the variables devenv always defines.
  root = toString ./.;
  config = module // {
    env = {
      DEVENV_ROOT = root;
      DEVENV_DOTFILE = "${root}/.devenv";
      DEVENV_STATE = "${root}/.devenv/state";
      DEVENV_RUNTIME = "${root}/.devenv/run";
    } // (module.env or { });
  };
  module = import ./devenv.nix { inherit pkgs lib config; };

  python = module.languages.python or { };
  pythonVersion = python.version or "3.11";
  pythonPackage = python.package or (
    if pythonVersion == "3.11" then pkgs.python311
    else if pythonVersion == "3.12" then pkgs.python312
    else throw "languages.python.version: no Python ${pythonVersion} in this nixpkgs (known: 3.11, 3.12)");

  servicePackages = { postgres = pkgs.postgresql; redis = pkgs.redis; mysql = pkgs.mysql57; };
  services = module.services or { };
  enabledServices = builtins.filter (n: services.${n}.enable or false) (builtins.attrNames services);

  mkService = name: let svc = services.${name}; in derivation {
    name = "${name}-service-config";
    inherit system salt;
    builder = "/bin/sh";
    PATH = "/usr/bin:/bin";
    package = svc.package or servicePackages.${name} or (throw "services.${name}: unknown service");
    port = toString (svc.port or 0);
    settings = builtins.toJSON (removeAttrs svc [ "package" ]);
    args = [ "-c" ''
      ${phases [ "writing the ${name} service configuration" ]}
      printf 'service %s\npackage %s\nport %s\nsettings %s\n' "${name}" "$package" "$port" "$settings" > "$out"
    '' ];
  };

  processes = module.processes or { };
  procfile = builtins.concatStringsSep "" (map
    (n: "${n}: ${processes.${n}.exec or (throw "processes.${n}.exec is not set")}\n")
    (builtins.attrNames processes));

  envText = builtins.concatStringsSep "" (map
    (n: "export ${n}=${builtins.toJSON (toString config.env.${n})}\n")
    (builtins.attrNames config.env));

  packages = (module.packages or [ ])
    ++ lib.optional (python.enable or false) pythonPackage;

in derivation {
  name = "devenv-shell-env";
  inherit system salt envText procfile;
  builder = "/bin/sh";
  PATH = "/usr/bin:/bin";
  packages = packages;
  services = map mkService enabledServices;
  enterShell = module.enterShell or "";
  args = [ "-c" ''
    ${phases [ "assembling the shell environment from ${toString (builtins.length packages)} packages" ]}
    {
      echo "# packages"; for p in $packages; do echo "$p"; done
      echo "# services"; for s in $services; do echo "$s"; done
      echo "# env"; printf '%s' "$envText"
      echo "# processes"; printf '%s' "$procfile"
      echo "# enterShell"; printf '%s\n' "$enterShell"
    } > "$out"
    echo "environment ready: $out"
  '' ];
}
