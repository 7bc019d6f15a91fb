#!/usr/bin/env bash
# scripts/test-deps.sh — the system packages `make test` needs, checked before the suites run.
#
# The backend and browser suites run Debian's own PostgreSQL, nginx and Chromium (by their
# Debian paths), so the packages are Debian's. For each one missing: as root on Debian or
# Ubuntu it is installed with apt-get; otherwise this stops at once with one line giving the
# exact command to run.
#
# Env (tests): OS_RELEASE (default /etc/os-release).
set -euo pipefail

# Debian package names; bench-only tools (wrk) are not here, `make bench-backend` checks its own.
packages=(postgresql postgresql-contrib nginx chromium gettext-base curl openssl ca-certificates)

os_release=${OS_RELEASE:-/etc/os-release}
distro=""
if [ -r "$os_release" ]; then
	# ID and ID_LIKE, e.g. "ubuntu debian"; a subshell keeps the file's variables out of ours.
	distro=$(. "$os_release" && echo "${ID:-} ${ID_LIKE:-}")
fi
debian_like=""
case " $distro " in *" debian "* | *" ubuntu "*) debian_like=1 ;; esac

if [ -z "$debian_like" ] || ! command -v dpkg-query >/dev/null 2>&1; then
	# Elsewhere the suites cannot find the Debian paths they use; say where they do run.
	echo "make test: needs Debian or Ubuntu with: ${packages[*]} (here: ${distro:-unknown system}); run it in a Debian container, e.g.: docker run --rm -v \"\$PWD\":/src -w /src golang:1.26-bookworm make test" >&2
	exit 1
fi

command -v npm >/dev/null 2>&1 || {
	echo "make test: npm is missing; install Node.js 20 with npm: https://nodejs.org/en/download (or: sudo apt-get install -y nodejs npm)" >&2
	exit 1
}

missing=()
for pkg in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "make test: missing system packages; install them with: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
	exit 1
fi

echo "make test: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian's packages start their services; the suites start their own on loopback.
for svc in nginx postgresql; do
	service "$svc" stop >/dev/null 2>&1 || true
done
