#!/bin/sh
# The demo image's last provisioning step, as root: wait for the first boot's cloud-init, then remove what
# that boot left that a cloud image must not ship (the same ground as upstream's ansible/roles/cleanup_vm:
# identity, host keys, cloud-init state, network profiles, logs, temporary files, caches), and stamp the
# image with the build's time stamp. Packer's shutdown_command removes the build user and powers off.
set -eu
export LC_ALL=C

echo "cleanup: waiting for cloud-init to finish its first boot"
cloud-init status --wait >/dev/null || true

# the build's own mark, checked by verify (build-stamp)
if [ -n "${BUILD_STAMP:-}" ]; then
  echo "$BUILD_STAMP" >/etc/cloud-images-build-stamp
  echo "AlmaLinux demo image, built by cloud-images at $BUILD_STAMP" >/etc/motd
fi

# cloud-init: state, seed and logs of this boot; its rendered network configuration
cloud-init clean --logs --seed
rm -f /etc/systemd/network/10-cloud-init-*.network /etc/netplan/50-cloud-init.yaml

# identity, made again on the next first boot
truncate -s 0 /etc/machine-id
rm -f /etc/ssh/ssh_host_* /etc/hostname /etc/machine-info /var/lib/systemd/random-seed \
  /var/lib/systemd/credential.secret
: >/etc/resolv.conf

# the build's keys: cloud-init gave root the build key (behind its "log in as almalinux" command); the
# build user and its keys go with the shutdown command
rm -f /root/.ssh/authorized_keys

# network profiles naming this machine's hardware
rm -f /etc/udev/rules.d/70-* /etc/NetworkManager/system-connections/*.nmconnection

# logs: rotated ones removed, the rest emptied (tuned stopped first: it logs until it ends)
systemctl stop tuned.service 2>/dev/null || true
find /var/log -type f \( -name '*.gz' -o -name '*.[0-9]' -o -name '*.old' -o -name '*-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]' \) -delete
find /var/log -type f -exec truncate -s 0 {} +

# temporary files and package caches
find /tmp /var/tmp -mindepth 1 -delete
apt-get clean
rm -rf /var/cache/dnf/*

# shell history
rm -f /root/.bash_history
echo "cleanup: done"
