#!/usr/bin/env bash
# Installs what a fresh machine lacks to build and test Commons. Idempotent: each step checks
# first and does nothing when its tool is already there, so a second run takes about a second.
set -euo pipefail

need_apt=()
command -v protoc >/dev/null 2>&1 || need_apt+=(protobuf-compiler)
command -v clang >/dev/null 2>&1 || need_apt+=(clang libclang-dev)
command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
[ -e /usr/include/openssl/ssl.h ] || need_apt+=(libssl-dev)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
# scripts/fuzz.sh writes its seed corpus with a short Python program.
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
# A container engine for apps that are OCI images (the tests run one; the dev chain and the demo
# do not need it): Podman, on the runc runtime, which works where crun cannot (cgroup v1 hosts).
command -v podman >/dev/null 2>&1 || need_apt+=(podman)
command -v runc >/dev/null 2>&1 || [ -x /usr/sbin/runc ] || need_apt+=(runc)

if [ ${#need_apt[@]} -gt 0 ]; then
	echo "setup: installing system packages: ${need_apt[*]}"
	sudo_cmd=""
	[ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
	$sudo_cmd apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

if ! command -v cargo >/dev/null 2>&1; then
	echo "setup: no Rust toolchain found; install rustup first" >&2
	exit 1
fi

installed_targets=$(rustup target list --installed)
for target in wasm32v1-none wasm32-wasip1; do
	if ! grep -qx "$target" <<<"$installed_targets"; then
		echo "setup: adding Rust target $target"
		rustup target add "$target"
	fi
done

installed_components=$(rustup component list --installed 2>/dev/null || true)
for component in rustfmt clippy; do
	if ! grep -q "^$component" <<<"$installed_components"; then
		echo "setup: adding Rust component $component"
		rustup component add "$component"
	fi
done

echo "setup: toolchain ready ($(rustc --version))"
