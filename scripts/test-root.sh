#!/usr/bin/env bash
# Makes the bare Debian 12 root the package test installs into
# (debootstrap --variant=minbase bookworm, from the archive the host's apt
# uses), once, as a tarball in $LINEAGE_TEST_CACHE (default
# /var/cache/lineage-tests). Idempotent and locked: a second caller waits
# for the first and then finds the tarball.
#   test-root.sh           the bare root (bookworm-minbase.tar)
#   test-root.sh systemd   the same with systemd, systemd-sysv and dbus
#                          (bookworm-systemd.tar): booted as pid 1 of a
#                          Docker container by tests/integration/record_systemd.sh `make test` starts it in the
# background before compiling (debootstrap waits on the network and disk,
# the compiler on the CPU), and tests/integration/deb_install.sh calls it
# again, which returns at once when the tarball is there.
# Prints the tarball's path. Exit 0 made or found, 77 cannot (not root, no
# debootstrap, no archive reachable), 1 failed otherwise.
set -uo pipefail
cache=${LINEAGE_TEST_CACHE:-/var/cache/lineage-tests}
flavour=${1:-minbase}
case "$flavour" in
  minbase) include=() ;;
  systemd) include=(--include=systemd,systemd-sysv,dbus) ;;
  *) echo "usage: test-root.sh [minbase|systemd]" >&2; exit 2 ;;
esac
tarball=$cache/bookworm-$flavour.tar
[ "$(id -u)" = 0 ] || { echo "needs root (debootstrap)" >&2; exit 77; }
command -v debootstrap >/dev/null || { echo "debootstrap is not installed" >&2; exit 77; }
mkdir -p "$cache" || exit 1
exec 9>"$cache/.bookworm-$flavour.lock" || exit 1
flock 9 || exit 1
if [ -s "$tarball" ]; then echo "$tarball"; exit 0; fi

mirror=$(grep -hE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
         awk '{print $2}' | grep -vi security | head -1)
[ -n "$mirror" ] || { echo "no Debian archive in the host's apt sources" >&2; exit 77; }
work=$(mktemp -d /tmp/lineage-root.XXXXXX) || exit 1
trap 'rm -rf "$work"' EXIT
echo "making the $flavour root once (debootstrap --variant=minbase ${include[*]} bookworm)" >&2
if ! debootstrap --variant=minbase "${include[@]}" bookworm "$work/boot" "$mirror" >"$work/debootstrap.log" 2>&1; then
  tail -5 "$work/debootstrap.log" >&2
  echo "debootstrap could not reach the archive" >&2
  exit 77
fi
tar -C "$work/boot" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball" || exit 1
echo "$tarball"
