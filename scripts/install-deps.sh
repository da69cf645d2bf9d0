#!/usr/bin/env bash
# Installs what authchain needs on Debian 12, skipping what is already there.
# Run as root (or with sudo). Safe to run again.
set -euo pipefail
packages=(
  g++ meson ninja-build pkg-config
  libbotan-2-dev libssl-dev libsodium-dev libasio-dev libfmt-dev doctest-dev
  libtomlplusplus-dev libcli11-dev nlohmann-json3-dev
  clang-14 libclang-rt-14-dev libfuzzer-14-dev
  openssh-client openssl redis-server redis-tools haproxy
  python3 procps iproute2
  util-linux
  stunnel4 spiped iperf3 openssh-server python3-rpyc python3-pyro4
  prometheus-cpp-dev libsystemd-dev scdoc
  valgrind
)
# Intel's ipsec-mb (AES-GCM on CPUs with AVX-512 and VAES): Debian builds it for amd64 only.
if [ "$(dpkg --print-architecture)" = amd64 ]; then packages+=(libipsec-mb-dev); fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# Debian starts redis-server and haproxy services on install where it can;
# the tests start their own on loopback ports, so stop the packaged ones.
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
for svc in redis-server haproxy ssh stunnel4; do
  if command -v service >/dev/null 2>&1; then $SUDO service "$svc" stop >/dev/null 2>&1 || true; fi
done
