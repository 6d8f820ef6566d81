# Sources that exist and are built, but whose images the legs would not find (or would find only
# because a value is left open). See the README beside this directory.

variable "image_arch" {
  type    = string
  default = "aarch64"
}

variable "flavor" {
  type    = string
  default = "generic"
}

locals {
  stamp = formatdate("YYYYMMDDhhmmss", timestamp())
}

# No vm_name: Packer names the image packer-almalinux-9-gencloud-x86_64.
source "qemu" "almalinux-9-gencloud-x86_64" {
  format = "qcow2"
}

# The aarch64 source copied from x86_64 without changing the name.
source "qemu" "almalinux-9-gencloud-aarch64" {
  vm_name = "AlmaLinux-9-GenericCloud-9.6-${formatdate("YYYYMMDD", timestamp())}.x86_64.qcow2"
}

# The right name, but no format: Packer writes qcow2.
source "qemu" "almalinux-9-azure-x86_64" {
  vm_name = "AlmaLinux-9-Azure-9.6-${formatdate("YYYYMMDD", timestamp())}.x86_64.raw"
}

# Its own output directory.
source "qemu" "almalinux_10_opennebula_x86_64_v2" {
  output_directory = "images/"
  vm_name          = "AlmaLinux-10-OpenNebula-10.1-${local.stamp}.x86_64_v2.qcow2"
}

# The same directory as the default, spelled differently.
source "qemu" "almalinux_kitten_10_azure_x86_64" {
  output_directory = "./output-almalinux_kitten_10_azure_x86_64/"
  vm_name          = "AlmaLinux-Kitten-Azure-10-${local.stamp}.x86_64.raw"
  format           = "raw"
}

# A function this check does not evaluate: left open, and the rest of the name still fits.
source "qemu" "almalinux_10_gencloud_x86_64" {
  vm_name = "AlmaLinux-10-GenericCloud-${upper(var.flavor)}-10.1.x86_64.qcow2"
}

# image_arch comes from oci.auto.pkrvars.hcl (x86_64), which beats its default.
source "qemu" "almalinux-9-oci-x86_64" {
  vm_name = "AlmaLinux-9-OCI-9.6-${local.stamp}.${var.image_arch}.qcow2"
}
source "qemu" "almalinux-9-oci-aarch64" {
  vm_name = "AlmaLinux-9-OCI-9.6-${local.stamp}.${var.image_arch}.qcow2"
}

build {
  sources = [
    "source.qemu.almalinux-9-gencloud-x86_64",
    "source.qemu.almalinux-9-gencloud-aarch64",
    "source.qemu.almalinux-9-azure-x86_64",
    "source.qemu.almalinux_10_opennebula_x86_64_v2",
    "source.qemu.almalinux_kitten_10_azure_x86_64",
    "source.qemu.almalinux_10_gencloud_x86_64",
    "source.qemu.almalinux-9-oci-x86_64",
    "source.qemu.almalinux-9-oci-aarch64",
  ]
}
