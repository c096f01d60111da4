#!/usr/bin/env bash
# Installs the Debian packages lineage needs to build, test and benchmark.
# As root it installs what is missing; otherwise it prints the apt command.
set -euo pipefail

packages=(
  # build
  make cmake g++ clang llvm pkg-config
  libbpf-dev bpftool libelf-dev zlib1g-dev
  libcli11-dev libfmt-dev nlohmann-json3-dev libsystemd-dev libsqlite3-dev libzstd-dev
  # tests, sanitizers, fuzzing, benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev libclang-rt-14-dev
  procps psmisc hyperfine time jq zstd
  # JSON Schema validation of every JSON output (tests/schema/validate.py)
  python3-jsonschema
  # peers of `lineage who` (tests, benchmarks): lsof, fuser (psmisc), ss
  lsof iproute2
  # real launchers for the `why` integration tests
  openssh-server openssh-client cron at tmux screen supervisor docker.io busybox-static
)

missing=()
for p in "${packages[@]}"; do
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
