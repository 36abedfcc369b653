#!/usr/bin/env bash
# Makes promtool available to the deployment tests, which check the Prometheus alert rules.
# A promtool on the PATH is used as it is. Otherwise promtool is extracted from Debian's
# prometheus package into .tools/bin, without installing the package, because installing it
# would also start a Prometheus server.
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v promtool >/dev/null || [ -x .tools/bin/promtool ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null || ! command -v dpkg >/dev/null; then
  echo "promtool not found: install Prometheus's promtool and put it on the PATH, then run again" >&2
  exit 1
fi

echo "promtool not found: extracting it from the Debian package prometheus into .tools/bin"
workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT
if ! (cd "$workdir" && apt-get download prometheus >/dev/null 2>&1); then
  if [ "$(id -u)" != 0 ]; then
    echo "apt-get download prometheus failed: run 'apt-get update' as root, or install promtool, then run again" >&2
    exit 1
  fi
  apt-get update -qq
  (cd "$workdir" && apt-get download prometheus >/dev/null)
fi
dpkg -x "$workdir"/prometheus_*.deb "$workdir/package"
mkdir -p .tools/bin
cp "$workdir/package/usr/bin/promtool" .tools/bin/promtool
.tools/bin/promtool --version | head -1
