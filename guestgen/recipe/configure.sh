#!/bin/sh
# Turns the Debian 12 tree into the cloud-images test guest. Runs inside the tree (chroot, as root) from
# mmdebstrap's customize hook, with this directory at /tmp/cloud-images-recipe.
set -eu
R=/tmp/cloud-images-recipe
export DEBIAN_FRONTEND=noninteractive LC_ALL=C

# cloud-init: NoCloud only, and only the modules a cloud image's first boot needs (fewer imports under TCG)
rm -f /etc/cloud/cloud.cfg.d/90_dpkg.cfg
install -m 0644 "$R/cloud.cfg" /etc/cloud/cloud.cfg

# SSH host keys are made at first boot: by cloud-init, else by sshd-keygen (as on AlmaLinux)
install -m 0644 "$R/sshd-keygen.service" /etc/systemd/system/sshd-keygen.service
systemctl enable sshd-keygen.service
rm -f /etc/ssh/ssh_host_*
# AlmaLinux's name for the SSH server unit, as a wants link (Debian calls it ssh.service, alias sshd.service)
ln -sf /lib/systemd/system/ssh.service /etc/systemd/system/multi-user.target.wants/sshd.service
rm -f /etc/systemd/system/multi-user.target.wants/ssh.service

# the network: systemd-networkd, configured by cloud-init
systemctl enable systemd-networkd.service
systemctl enable tuned.service
# nothing periodic, nothing for ext4 volumes (the filesystems are XFS)
for t in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer dpkg-db-backup.timer; do
  systemctl mask "$t" >/dev/null 2>&1 || true
done

# rpm's database where AlmaLinux keeps it (Debian's rpm defaults to ~/.rpmdb)
mkdir -p /etc/rpm
echo "%_dbpath /var/lib/rpm" >/etc/rpm/macros

# SELinux: Debian's reference policy under AlmaLinux's name, enforcing, plus the few rules Debian 12's
# policy lacks for this systemd and cloud-init (cloudimages_guest.te says which)
mv /etc/selinux/default /etc/selinux/targeted
mv /var/lib/selinux/default /var/lib/selinux/targeted
printf 'SELINUX=enforcing\nSELINUXTYPE=targeted\n' >/etc/selinux/config
(
  cd "$R"
  checkmodule -M -m -o cloudimages_guest.mod cloudimages_guest.te >/dev/null
  semodule_package -o cloudimages_guest.pp -m cloudimages_guest.mod
  semodule -s targeted -i cloudimages_guest.pp
)

# identity is made at first boot; root has no password; nothing left from building
: >/etc/machine-id
rm -f /var/lib/dbus/machine-id /etc/hostname /var/lib/systemd/random-seed
ln -s /etc/machine-id /var/lib/dbus/machine-id
usermod -p '*' root
apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/debconf/*-old /var/lib/dpkg/*-old
find /var/log -type f \( -name '*.gz' -o -name '*.[0-9]' -o -name '*-[0-9]*' \) -delete
find /var/log -type f -exec truncate -s 0 {} +
