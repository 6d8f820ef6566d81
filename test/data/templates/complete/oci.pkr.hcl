# OCI keeps the dashed names for 10 too, and has no Kitten.

source "qemu" "almalinux-8-oci-x86_64" {
  vm_name = "AlmaLinux-8-OCI-${var.os_ver_8}-${formatdate("YYYYMMDD", timestamp())}.x86_64.qcow2"
  cpus    = var.cpus
}
source "qemu" "almalinux-8-oci-aarch64" {
  vm_name = "AlmaLinux-8-OCI-${var.os_ver_8}-${formatdate("YYYYMMDD", timestamp())}.aarch64.qcow2"
  cpus    = var.cpus
}
source "qemu" "almalinux-9-oci-x86_64" {
  vm_name = "AlmaLinux-9-OCI-${var.os_ver_9}-${formatdate("YYYYMMDD", timestamp())}.x86_64.qcow2"
  cpus    = var.cpus
}
source "qemu" "almalinux-9-oci-aarch64" {
  vm_name = "AlmaLinux-9-OCI-${var.os_ver_9}-${formatdate("YYYYMMDD", timestamp())}.aarch64.qcow2"
  cpus    = var.cpus
}
source "qemu" "almalinux-10-oci-x86_64" {
  vm_name = "AlmaLinux-10-OCI-${var.os_ver_10}-${formatdate("YYYYMMDD", timestamp())}.${var.build_number}.x86_64.qcow2"
  cpus    = var.cpus
}
source "qemu" "almalinux-10-oci-aarch64" {
  vm_name = "AlmaLinux-10-OCI-${var.os_ver_10}-${formatdate("YYYYMMDD", timestamp())}.${var.build_number}.aarch64.qcow2"
  cpus    = var.cpus
}

build {
  sources = [
    "qemu.almalinux-8-oci-x86_64",
    "qemu.almalinux-8-oci-aarch64",
    "qemu.almalinux-9-oci-x86_64",
    "qemu.almalinux-9-oci-aarch64",
    "qemu.almalinux-10-oci-x86_64",
    "qemu.almalinux-10-oci-aarch64",
  ]
}
