#!/usr/bin/env bash
# Installs the Debian packages lineage needs, per purpose:
#
#   bash scripts/deps.sh build         compiler, cmake and the libraries: build and run lineage
#   bash scripts/deps.sh build test    + GoogleTest, sanitizers, jq, and the real launchers
#                                        (sshd, cron, tmux, docker ...) the integration tests start
#   bash scripts/deps.sh bench         + hyperfine, Google Benchmark and the peer tools
#   bash scripts/deps.sh               everything (build test bench)
#
# As root it installs what is missing; otherwise it prints the apt command.
set -euo pipefail

build=(
  make cmake g++ clang llvm pkg-config
  libbpf-dev bpftool libelf-dev zlib1g-dev
  libcli11-dev libfmt-dev nlohmann-json3-dev libsystemd-dev libsqlite3-dev libzstd-dev
  # make deb: dpkg-shlibdeps computes the package's dependencies
  dpkg-dev
)
test=(
  # unit tests, sanitizers (clang's runtime), fuzzing
  libgtest-dev libgmock-dev libclang-rt-14-dev
  procps psmisc time jq zstd
  # JSON Schema validation of every JSON output (tests/schema/validate.py)
  python3-jsonschema
  # peers of `lineage who` (tests, benchmarks): lsof, fuser (psmisc), ss
  lsof iproute2
  # peer of `lineage trace` (tests, benchmarks): strace -f
  strace
  # real launchers for the `why` integration tests
  openssh-server openssh-client cron at tmux screen supervisor docker.io busybox-static
  # `lineage audit` tests: a real web server with workers, python3's http.server
  nginx python3
  # the package test: lintian, and a bare Debian 12 root to install it in
  lintian debootstrap
  # audit_b.sh: a tracer (ptrace-attached), setpriv/script/unshare, useradd, a C compiler
  util-linux passwd gcc
  # record_scenarios.sh: a directory's default ACL must not widen the database's mode
  acl
)
bench=(
  hyperfine libbenchmark-dev procps psmisc lsof iproute2 time
  # bench/trace.sh: the tracer's own CPU (perf stat --no-inherit)
  linux-perf
)

purposes=("$@")
[ ${#purposes[@]} -eq 0 ] && purposes=(build test bench)
packages=()
for purpose in "${purposes[@]}"; do
  case "$purpose" in
    build) packages+=("${build[@]}") ;;
    test) packages+=("${build[@]}" "${test[@]}") ;;
    bench) packages+=("${build[@]}" "${bench[@]}") ;;
    *) echo "deps.sh: unknown purpose '$purpose' (build, test, bench)" >&2; exit 2 ;;
  esac
done

missing=()
declare -A seen=()
for p in "${packages[@]}"; do
  [ -n "${seen[$p]:-}" ] && continue
  seen[$p]=1
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "lineage needs these Debian packages; as root run:" >&2
  echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
