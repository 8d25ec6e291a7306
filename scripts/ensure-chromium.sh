#!/usr/bin/env sh
# Make sure Debian's chromium is installed: the browser test of the demo chat
# (tests/web/test_browser_chat.py) drives it headless with playwright-core.
# Outside CI a failed install only warns (that test then skips); in CI
# (CI=true) the test fails instead.
command -v chromium >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = "0" ]; then SUDO=""; else SUDO="sudo -n"; fi
echo "installing chromium (Debian package) for the browser test"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -q chromium >/dev/null 2>&1 \
  || { $SUDO apt-get update -q >/dev/null 2>&1 && $SUDO apt-get install -y -q chromium >/dev/null 2>&1; } \
  || echo "warning: could not install chromium; the browser test will skip (or fail with CI=true)"
exit 0
