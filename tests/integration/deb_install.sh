#!/usr/bin/env bash
# Issue 12 item 2: the Debian package, installed where an operator would:
# a bare Debian 12 root (debootstrap --variant=minbase) that is a mount
# point, entered with chroot.
#
# Usage: deb_install.sh LINEAGE_BINARY BUILD_DIR KIND   (KIND: release or sanitize)
# Builds the package from BUILD_DIR (cpack, as `make deb` does), checks it
# with lintian (no errors), then in the bare root: apt installs it (its
# dependencies come from the archive the host's apt uses), runs `lineage
# --version`, `why 1`, `tree`, `doctor` and checks the man page, completions, the
# recorder's unit (installed, not enabled, ExecStart /usr/bin/lineage) and
# /var/lib/lineage (0700); removes it (files gone, the history directory
# kept) and purges it (directory gone).
# The bare root is made once by scripts/test-root.sh and cached as a tarball
# in $LINEAGE_TEST_CACHE (default /var/cache/lineage-tests).
# Exit 0 pass, 1 fail, 77 when the machine cannot run it (not root, no
# debootstrap or lintian, a sanitizer build: the package is the release one).
set -uo pipefail

LINEAGE=${1:?usage: deb_install.sh LINEAGE_BINARY BUILD_DIR KIND}
BUILD=${2:?usage}
KIND=${3:?usage}
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
[ "$KIND" = release ] || skip "the package is built from the release build, not the $KIND one"
[ "$(id -u)" = 0 ] || skip "needs root (debootstrap, chroot, mount)"
for tool in debootstrap lintian cpack chroot dpkg-deb; do
  command -v "$tool" >/dev/null || skip "$tool is not installed"
done

work=$(mktemp -d /tmp/lineage-deb.XXXXXX)
root=$work/root
mounted=()
cleanup() {
  local m
  for ((i=${#mounted[@]}-1; i>=0; i--)); do umount -l "${mounted[$i]}" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# 1. The package, as `make deb` makes it.
( cd "$BUILD" && cpack -G DEB -B "$work/pkg" >/dev/null 2>"$work/cpack.err" ) || fail "cpack: $(tail -3 "$work/cpack.err")"
deb=$(ls "$work"/pkg/lineage_*_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || fail "cpack made no lineage_*.deb"
version=$(dpkg-deb -f "$deb" Version)
dpkg-deb -f "$deb" Depends | grep -q libc6 || fail "no shlibdeps dependencies: $(dpkg-deb -f "$deb" Depends)"
# lintian refuses to run as root without --allow-root
if ! lintian --allow-root --fail-on error "$deb" >"$work/lintian.out" 2>&1; then
  fail "lintian: $(grep -E '^E:' "$work/lintian.out" | head -5 | tr '\n' ' ')"
fi
echo "lintian: no errors ($(grep -c '^W:' "$work/lintian.out") warnings)"

# 2. A bare Debian 12 root (scripts/test-root.sh makes it once; `make test`
# starts that in the background while it compiles).
tarball=$(bash "$(dirname "$0")/../../scripts/test-root.sh" 2>"$work/root.err"); rc=$?
[ $rc -eq 77 ] && skip "$(tail -1 "$work/root.err")"
[ $rc -eq 0 ] || fail "no bare root: $(tail -3 "$work/root.err")"
mkdir -p "$root"
tar -C "$root" -xf "$tarball" || fail "cannot extract $tarball"
mount --bind "$root" "$root" && mounted+=("$root") || fail "cannot make the root a mount point"
mount -t proc proc "$root/proc" && mounted+=("$root/proc") || fail "cannot mount proc"
mount --bind /dev "$root/dev" && mounted+=("$root/dev") || fail "cannot bind /dev"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null
cp "$deb" "$root/tmp/"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive "$@"; }

# 3. Install with apt and nothing else.
in_root dpkg-query -W lineage >/dev/null 2>&1 && fail "the bare root already has lineage"
in_root apt-get update -qq >"$work/apt.log" 2>&1 || skip "apt-get update failed in the bare root: $(tail -2 "$work/apt.log")"
in_root apt-get install -y -qq "/tmp/${deb##*/}" >>"$work/apt.log" 2>&1 || fail "apt install: $(tail -3 "$work/apt.log")"
got=$(in_root lineage --version) || fail "lineage --version failed"
case "$got" in *"$version"*"commit"*) ;; *) fail "--version says '$got', not version $version and a commit" ;; esac
in_root lineage why 1 --short >"$work/why.out" 2>&1; rc=$?
[ $rc -le 1 ] || fail "lineage why 1 exited $rc: $(head -2 "$work/why.out")"
grep -q '(1)' "$work/why.out" || fail "why 1 does not name pid 1: $(head -1 "$work/why.out")"
in_root lineage tree >"$work/tree.out" 2>&1 || fail "lineage tree exited $?: $(head -2 "$work/tree.out")"
[ "$(wc -l <"$work/tree.out")" -ge 3 ] || fail "lineage tree printed $(wc -l <"$work/tree.out") lines"
in_root lineage doctor --json >"$work/doctor.json" 2>&1; rc=$?
[ $rc -le 1 ] || fail "lineage doctor exited $rc: $(head -c 300 "$work/doctor.json")"
grep -q '"schema":"lineage.doctor/v1"' "$work/doctor.json" || fail "lineage doctor --json: $(head -c 300 "$work/doctor.json")"
for f in /usr/bin/lineage /usr/share/man/man1/lineage.1.gz /usr/share/bash-completion/completions/lineage \
         /usr/share/zsh/vendor-completions/_lineage /usr/share/fish/vendor_completions.d/lineage.fish \
         /usr/share/doc/lineage/copyright /usr/lib/systemd/system/lineage-record.service; do
  [ -e "$root$f" ] || fail "the package did not install $f"
done
grep -q '^ExecStart=/usr/bin/lineage record' "$root/usr/lib/systemd/system/lineage-record.service" ||
  fail "the unit does not start /usr/bin/lineage: $(grep ExecStart= "$root/usr/lib/systemd/system/lineage-record.service")"
[ -e "$root/etc/systemd/system/multi-user.target.wants/lineage-record.service" ] && fail "the unit was enabled"
mode=$(stat -c %a "$root/var/lib/lineage" 2>/dev/null) || fail "no /var/lib/lineage"
[ "$mode" = 700 ] || fail "/var/lib/lineage has mode $mode, not 700"
echo "installed $version: --version, why 1, tree, doctor, files and modes as expected"

# 4. Remove keeps the history; purge removes it.
touch "$root/var/lib/lineage/history.db"
in_root apt-get remove -y -qq lineage >>"$work/apt.log" 2>&1 || fail "apt remove: $(tail -3 "$work/apt.log")"
[ -e "$root/usr/bin/lineage" ] && fail "remove left /usr/bin/lineage"
[ -e "$root/var/lib/lineage/history.db" ] || fail "remove deleted the history"
in_root apt-get purge -y -qq lineage >>"$work/apt.log" 2>&1 || fail "apt purge: $(tail -3 "$work/apt.log")"
[ -e "$root/var/lib/lineage" ] && fail "purge left /var/lib/lineage"
in_root dpkg-query -W -f='${Status}' lineage 2>/dev/null | grep -q installed && fail "dpkg still lists lineage installed"
echo "PASS deb_install"
