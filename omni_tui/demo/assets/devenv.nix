{ pkgs, lib, config, ... }:

{
  # acme-shop: the orders API and its background worker.
  env.APP_ENV = "development";
  env.LOG_LEVEL = "info";
  env.DATABASE_URL = "postgresql:///shop?host=${config.env.DEVENV_RUNTIME}/postgres";

  packages = [
    pkgs.git
    pkgs.jq
    pkgs.curl
  ];

  languages.python = {
    enable = true;
    version = "3.11";
  };

  services.postgres = {
    enable = true;
    listen_addresses = "127.0.0.1";
    initialDatabases = [ { name = "shop"; } ];
  };

  processes = {
    web.exec = "python -m http.server $PORT --bind 127.0.0.1 --directory public";
    worker.exec = "python -m acme.worker";
  };

  enterShell = ''
    echo "acme-shop dev shell ($APP_ENV)"
    python --version
  '';
}
