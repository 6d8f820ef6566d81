# The demo build leg: the same Packer source name, vm_name and output directory as the real
# GenericCloud 9 x86_64 leg, but the "OS install" is a tiny guest (Debian's kernel + a busybox
# initramfs) that stamps the pre-made base disk and powers off. No network, no ISO.
#
# Machine-specific values (kernel, initrd, base_image, accelerator) come from demo.auto.pkrvars.hcl,
# written by run-demo.ts; the pipeline adds only its usual -var flags, and the run's time stamp as
# TIME_STAMP in Packer's environment, which the guest writes into the image.

variable "qemu_binary" {
  type    = string
  default = "/usr/bin/qemu-system-x86_64"
}

# Declared so the pipeline's -var flags are accepted; the guest boots with -kernel, so firmware
# (UEFI) variables play no part here.
variable "ovmf_code" {
  type    = string
  default = "/usr/share/OVMF/OVMF_CODE_4M.fd"
}

variable "ovmf_vars" {
  type    = string
  default = "/usr/share/OVMF/OVMF_VARS_4M.fd"
}

variable "accelerator" {
  type    = string
  default = "tcg"
}

variable "kernel" {
  type    = string
  default = "/boot/vmlinuz"
}

variable "initrd" {
  type    = string
  default = "initrd.cpio.gz"
}

variable "base_image" {
  type    = string
  default = "base.qcow2"
}

variable "cpus" {
  type    = number
  default = 1
}

variable "memory" {
  type    = number
  default = 512
}

# "sha256:<hex>" of the base image (run-demo.ts writes it), or "none".
variable "base_image_checksum" {
  type    = string
  default = "none"
}

# YYYYMMDDhhmmss, written into the image by the guest: the run's (cloud-images run sets TIME_STAMP);
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

# YYYYMMDD for vm_name; empty: the first 8 digits of the build stamp.
variable "date_stamp" {
  type    = string
  default = ""
  validation {
    condition     = var.date_stamp == "" || (length(var.date_stamp) == 8 && regex_replace(var.date_stamp, "[0-9]", "") == "")
    error_message = "The date_stamp must be 8 digits (YYYYMMDD) or empty."
  }
}

# The guest's root partition: p4 in the AlmaLinux x86_64 layout.
variable "root_device" {
  type    = string
  default = "/dev/vda4"
}

# Appended to the guest's kernel command line (tests use cloud_images.fail=STEP).
variable "extra_kernel_args" {
  type    = string
  default = ""
}

variable "shutdown_timeout" {
  type    = string
  default = "5m"
}

locals {
  build_stamp = var.build_stamp != "" ? var.build_stamp : formatdate("YYYYMMDDhhmmss", timestamp())
  date_stamp  = var.date_stamp != "" ? var.date_stamp : substr(local.build_stamp, 0, 8)
  # panic=0: a guest kernel panic hangs (and fails on shutdown_timeout) instead of looking like a clean
  # poweroff to Packer.
  kernel_args = "console=ttyS0 panic=0 quiet cloud_images.stamp=${local.build_stamp} cloud_images.root=${var.root_device} ${var.extra_kernel_args}"
}

source "qemu" "almalinux-9-gencloud-x86_64" {
  qemu_binary      = var.qemu_binary
  accelerator      = var.accelerator
  iso_url          = var.base_image
  iso_checksum     = var.base_image_checksum
  disk_image       = true
  skip_resize_disk = true # otherwise Packer grows the disk to its 40960M default
  format           = "qcow2"
  disk_compression = true
  vm_name          = "AlmaLinux-9-GenericCloud-9.6-${local.date_stamp}.x86_64.qcow2"
  cpus             = var.cpus
  memory           = var.memory
  headless         = true
  disable_vnc      = true # with communicator "none", Packer would otherwise race the guest for VNC
  communicator     = "none"
  shutdown_timeout = var.shutdown_timeout
  qemuargs = [
    ["-kernel", var.kernel],
    ["-initrd", var.initrd],
    ["-append", local.kernel_args],
    ["-serial", "file:serial-almalinux-9-gencloud-x86_64.log"],
    # Packer 1.6.6 still passes -vnc 127.0.0.1:59xx with disable_vnc, and locks that port only within its
    # own cache directory: two builds at once could pick the same port and one QEMU would not start.
    ["-vnc", "none"],
  ]
}

build {
  sources = ["source.qemu.almalinux-9-gencloud-x86_64"]
}
