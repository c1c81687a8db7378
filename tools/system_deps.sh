#!/bin/sh
# Debian packages the project can use: the Fashion-MNIST files (offline source) and Chromium
# (browser tests). Installed only when running as root with apt-get; otherwise say what to do.
# Usage: sh tools/system_deps.sh data|browser [--if-possible]
#   --if-possible: install when it can, else exit 0 without a word (`make data` then tries the
#   other sources and names every failure only if all of them fail).
set -u
case "${1:-}" in
  data) pkg=dataset-fashion-mnist; present=/usr/share/datasets/fashion-mnist ;;
  browser) pkg=chromium; present=/usr/bin/chromium ;;
  *) echo "usage: $0 data|browser [--if-possible]" >&2; exit 2 ;;
esac
quiet_fail=1
[ "${2:-}" = "--if-possible" ] && quiet_fail=0
[ -e "$present" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian package $pkg"
  log=$(mktemp)
  # apt's own chatter (debconf notes and the like) is kept for a failure only
  if apt-get update -q >"$log" 2>&1 && \
     DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$pkg" >>"$log" 2>&1; then
    rm -f "$log"
  else
    cat "$log" >&2; rm -f "$log"
    echo "apt-get install $pkg failed" >&2
    exit "$quiet_fail"
  fi
else
  [ "$quiet_fail" = 0 ] && exit 0
  echo "note: Debian package $pkg is not installed (install it as root: apt-get install $pkg)" >&2
  exit 1
fi
