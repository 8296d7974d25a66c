#!/usr/bin/env bash
# Installs what nlkit's tests need on a fresh Debian 12 machine, and nothing
# when it is already there. Run as root (CI runs it as root).
set -euo pipefail

pkgs=(
	iproute2        # ip: the oracle the real-kernel tests compare against
	ethtool         # ethtool: the oracle of the ethtool package's and nlkit ethtool's tests
	ca-certificates # the Go module proxy over HTTPS
	nftables        # nft: log rules for the NFLOG tests, --install-rule nft; ct rules for the conntrack tests
	conntrack       # conntrack: the oracle of the conntrack tests
	iptables        # NFQUEUE targets for the nfqueue and ids tests (this kernel lacks nft_queue)
)
# The kernel-module VM tests (tier 3) boot Debian's kernel under QEMU.
pkgs+=(linux-image-amd64 linux-headers-amd64 qemu-system-x86 busybox-static make gcc libc6-dev)

need=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -eq 0 ]; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${need[*]}; run as root or: sudo apt-get install --no-install-recommends ${need[*]}" >&2
	exit 1
fi
echo "install-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
