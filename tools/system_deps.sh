#!/bin/sh
# Debian packages the project can use: the Fashion-MNIST files (offline source) and Chromium
# (browser tests). Installed only when running as root with apt-get; otherwise say what to do.
# Usage: sh tools/system_deps.sh data|browser
set -u
case "${1:-}" in
  data) pkg=dataset-fashion-mnist; present=/usr/share/datasets/fashion-mnist ;;
  browser) pkg=chromium; present=/usr/bin/chromium ;;
  *) echo "usage: $0 data|browser" >&2; exit 2 ;;
esac
[ -e "$present" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian package $pkg"
  apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$pkg" >/dev/null \
    || { echo "apt-get install $pkg failed" >&2; exit 1; }
else
  echo "note: Debian package $pkg is not installed (install it as root: apt-get install $pkg)" >&2
  exit 1
fi
