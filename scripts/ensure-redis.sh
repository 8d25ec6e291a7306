#!/usr/bin/env sh
# Make sure redis-server is installed: the Redis adapter's tests start a real
# one. Installs Debian's package when it is missing (as root, or with sudo).
# Outside CI a failed install only warns: those tests then skip. In CI
# (CI=true) they fail instead, so a missing Redis is never a silent pass.
command -v redis-server >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = "0" ]; then SUDO=""; else SUDO="sudo -n"; fi
echo "installing redis-server (Debian package) for the Redis adapter's tests"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -q redis-server >/dev/null 2>&1 \
  || { $SUDO apt-get update -q >/dev/null 2>&1 && $SUDO apt-get install -y -q redis-server >/dev/null 2>&1; } \
  || echo "warning: could not install redis-server; the Redis tests will skip (or fail with CI=true)"
exit 0
