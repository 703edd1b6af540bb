#!/usr/bin/env bash
# One-time (idempotent) set-up of a fresh machine for sdme, as root:
# Debian packages the sandbox host and the engine need, npm ci, build.
# Used by the README's two commands and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

t_start=$(date +%s)
step() { echo "== $* ($(( $(date +%s) - t_start )) s)"; }

PACKAGES=(systemd-container systemd dbus iproute2 nftables dhcpcd-base debootstrap attr
  zstd xz-utils bzip2 tmux systemd-resolved)

step "apt packages"
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if ((${#missing[@]})); then
  # systemd-resolved's postinst replaces /etc/resolv.conf with a symlink into
  # /run/systemd/resolve, which dangles here (PID 1 is not systemd): keep ours.
  resolv_saved=$(mktemp)
  cat /etc/resolv.conf >"$resolv_saved" 2>/dev/null || true
  # start no host service from maintainer scripts (resolved is for the sandbox only)
  policy_added=no
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    policy_added=yes
  fi
  restore() {
    if [[ -L /etc/resolv.conf || ! -s /etc/resolv.conf ]] && [[ -s "$resolv_saved" ]]; then
      rm -f /etc/resolv.conf
      cp "$resolv_saved" /etc/resolv.conf
      chmod 644 /etc/resolv.conf
    fi
    rm -f "$resolv_saved"
    [[ $policy_added == yes ]] && rm -f /usr/sbin/policy-rc.d
    return 0
  }
  trap restore EXIT
  apt-get update -q
  apt-get install -y -q "${missing[@]}"
  restore
  trap - EXIT
else
  echo "all present: ${PACKAGES[*]}"
fi
[[ -L /etc/resolv.conf ]] && { echo "error: /etc/resolv.conf is a symlink after apt" >&2; exit 1; }

step "inotify limits"
# Every booted container's systemd, journald and udev-less services hold inotify instances; the
# kernel default of 128 per user is shared by all root processes, so a handful of nested
# containers exhaust it ("Too many open files" at boot). Raise it (runtime only, not persisted).
if (( $(cat /proc/sys/fs/inotify/max_user_instances) < 4096 )); then
  sysctl -q -w fs.inotify.max_user_instances=4096 || echo "warning: could not raise fs.inotify.max_user_instances" >&2
fi

step "npm ci"
npm ci --no-audit --no-fund

step "build"
npm run build --silent
step "setup done"
