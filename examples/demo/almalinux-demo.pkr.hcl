# The demo build leg: the same Packer source name, vm_name and output directory as the real GenericCloud 9
# x86_64 leg. Instead of installing AlmaLinux from an ISO, Packer boots the project's realistic test guest
# (guestgen/: Debian 12 with systemd, cloud-init, OpenSSH and SELinux enforcing, AlmaLinux-like where the
# checks look) from its disk under UEFI, gets in over SSH with a key the demo made for this run (served to
# cloud-init as a NoCloud seed from Packer's HTTP server), and cleans it up as upstream's cleanup_vm role
# does (provision/cleanup.sh). The image then goes through verify, the boot test, publish and report.
#
# Machine-specific values (base_image, accelerator, ssh_private_key_file) come from demo.auto.pkrvars.hcl,
# written by run-demo.ts; the pipeline adds only its usual -var flags, and the run's time stamp as
# TIME_STAMP in Packer's environment, which the cleanup writes into the image.

variable "qemu_binary" {
  type    = string
  default = "/usr/bin/qemu-system-x86_64"
}

# Declared so the pipeline's -var flags are accepted. Packer 1.6.6's qemu builder has no efi_* options:
# the guest boots from the combined OVMF image (ovmf_firmware, given to QEMU as -bios).
variable "ovmf_code" {
  type    = string
  default = "/usr/share/OVMF/OVMF_CODE_4M.fd"
}

variable "ovmf_vars" {
  type    = string
  default = "/usr/share/OVMF/OVMF_VARS_4M.fd"
}

variable "ovmf_firmware" {
  type    = string
  default = "/usr/share/ovmf/OVMF.fd"
}

variable "accelerator" {
  type    = string
  default = "tcg"
}

# The guest's disk (raw); Packer converts a copy into the output image and never writes this one.
variable "base_image" {
  type = string
}

variable "ssh_private_key_file" {
  type = string
}

variable "cpus" {
  type    = number
  default = 2
}

variable "memory" {
  type    = number
  default = 2048
}

variable "ssh_timeout" {
  type    = string
  default = "30m"
}

# YYYYMMDDhhmmss, written into the image by the cleanup: the run's (cloud-images run sets TIME_STAMP);
# empty: the time Packer starts.
variable "build_stamp" {
  type    = string
  default = env("TIME_STAMP")
  validation {
    # Packer 1.6's regex() is not usable here; regex_replace is.
    condition     = var.build_stamp == "" || (length(var.build_stamp) == 14 && regex_replace(var.build_stamp, "[0-9]", "") == "")
    error_message = "The build_stamp must be 14 digits (YYYYMMDDhhmmss) or empty."
  }
}

locals {
  build_stamp = var.build_stamp != "" ? var.build_stamp : formatdate("YYYYMMDDhhmmss", timestamp())
  date_stamp  = substr(local.build_stamp, 0, 8)
}

source "qemu" "almalinux-9-gencloud-x86_64" {
  qemu_binary      = var.qemu_binary
  accelerator      = var.accelerator
  machine_type     = "q35"
  iso_url          = var.base_image
  iso_checksum     = "none"
  disk_image       = true
  skip_resize_disk = true # otherwise Packer grows the disk to its 40960M default
  disk_interface   = "virtio"
  disk_cache       = "unsafe"
  net_device       = "virtio-net"
  format           = "qcow2"
  vm_name          = "AlmaLinux-9-GenericCloud-9.6-${local.date_stamp}.x86_64.qcow2"
  cpus             = var.cpus
  memory           = var.memory
  headless         = true
  disable_vnc      = true
  # the guest's cloud-init reads its NoCloud seed (the build's SSH key) from Packer's HTTP server
  http_directory       = "http"
  communicator         = "ssh"
  ssh_username         = "almalinux"
  ssh_private_key_file = var.ssh_private_key_file
  ssh_timeout          = var.ssh_timeout
  # the build user goes with the rest of the first boot's traces; a forced poweroff kills the remaining
  # processes and unmounts cleanly without writing a shutdown record into /var/log/wtmp. journald is
  # told to leave /var/log/journal first: it re-creates a journal file deleted under it on its next
  # message (seen on a loaded machine: the image then failed the leftovers check)
  shutdown_command = "sudo sh -c 'userdel -f -r almalinux; rm -f /etc/sudoers.d/90-cloud-init-users; journalctl --relinquish-var; rm -rf /var/log/journal/*; sync; systemctl poweroff --force'"
  shutdown_timeout = "10m"
  # (no -device or -drive here: Packer would drop its own NIC and disk arguments)
  qemuargs = [
    ["-cpu", var.accelerator == "kvm" ? "host" : "max"],
    # Packer 1.6.6's qemu builder has no firmware option (1.7 added it): OVMF through -bios
    ["-bios", var.ovmf_firmware],
    ["-smbios", "type=1,serial=ds=nocloud-net;s=http://{{ .HTTPIP }}:{{ .HTTPPort }}/"],
    ["-serial", "file:serial-almalinux-9-gencloud-x86_64.log"],
    # Packer 1.6.6 still passes -vnc 127.0.0.1:59xx with disable_vnc, and locks that port only within its
    # own cache directory: two builds at once could pick the same port and one QEMU would not start.
    ["-vnc", "none"],
  ]
}

build {
  sources = ["source.qemu.almalinux-9-gencloud-x86_64"]

  provisioner "shell" {
    execute_command  = "sudo -E sh '{{ .Path }}'"
    environment_vars = ["BUILD_STAMP=${local.build_stamp}"]
    script           = "provision/cleanup.sh"
  }
}
