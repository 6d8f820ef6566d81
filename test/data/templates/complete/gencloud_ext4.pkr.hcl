# GenericCloud with an ext4 root: "gencloud-ext4" in dashed names, "gencloud_ext4" in underscored ones.

source "qemu" "almalinux-8-gencloud-ext4-x86_64" {
  vm_name = "AlmaLinux-8-GenericCloud-ext4-${var.os_ver_8}-${formatdate("YYYYMMDD", timestamp())}.x86_64.qcow2"
  format  = "qcow2"
  cpus    = var.cpus
}
source "qemu" "almalinux-8-gencloud-ext4-aarch64" {
  vm_name = "AlmaLinux-8-GenericCloud-ext4-${var.os_ver_8}-${formatdate("YYYYMMDD", timestamp())}.aarch64.qcow2"
  format  = "qcow2"
  cpus    = var.cpus
}
source "qemu" "almalinux-9-gencloud-ext4-x86_64" {
  vm_name = "AlmaLinux-9-GenericCloud-ext4-${var.os_ver_9}-${formatdate("YYYYMMDD", timestamp())}.x86_64.qcow2"
  format  = "qcow2"
  cpus    = var.cpus
}
source "qemu" "almalinux-9-gencloud-ext4-aarch64" {
  vm_name = "AlmaLinux-9-GenericCloud-ext4-${var.os_ver_9}-${formatdate("YYYYMMDD", timestamp())}.aarch64.qcow2"
  format  = "qcow2"
  cpus    = var.cpus
}
source "qemu" "almalinux_10_gencloud_ext4_x86_64" {
  vm_name = "AlmaLinux-10-GenericCloud-ext4-${var.os_ver_10}-${formatdate("YYYYMMDD", timestamp())}.${var.build_number}.x86_64.qcow2"
  format  = "qcow2"
  cpus    = var.cpus
}
source "qemu" "almalinux_10_gencloud_ext4_aarch64" {
  vm_name = "AlmaLinux-10-GenericCloud-ext4-${var.os_ver_10}-${formatdate("YYYYMMDD", timestamp())}.${var.build_number}.aarch64.qcow2"
  format  = "qcow2"
  cpus    = var.cpus
}
source "qemu" "almalinux_10_gencloud_ext4_x86_64_v2" {
  vm_name = "AlmaLinux-10-GenericCloud-ext4-${var.os_ver_10}-${formatdate("YYYYMMDD", timestamp())}.${var.build_number}.x86_64_v2.qcow2"
  format  = "qcow2"
  cpus    = var.cpus
}
source "qemu" "almalinux_kitten_10_gencloud_ext4_x86_64" {
  vm_name = "AlmaLinux-Kitten-GenericCloud-ext4-10-${formatdate("YYYYMMDD", timestamp())}.${var.build_number}.x86_64.qcow2"
  format  = "qcow2"
  cpus    = var.cpus
}
source "qemu" "almalinux_kitten_10_gencloud_ext4_aarch64" {
  vm_name = "AlmaLinux-Kitten-GenericCloud-ext4-10-${formatdate("YYYYMMDD", timestamp())}.${var.build_number}.aarch64.qcow2"
  format  = "qcow2"
  cpus    = var.cpus
}
source "qemu" "almalinux_kitten_10_gencloud_ext4_x86_64_v2" {
  vm_name = "AlmaLinux-Kitten-GenericCloud-ext4-10-${formatdate("YYYYMMDD", timestamp())}.${var.build_number}.x86_64_v2.qcow2"
  format  = "qcow2"
  cpus    = var.cpus
}

build {
  sources = [
    "qemu.almalinux-8-gencloud-ext4-x86_64",
    "qemu.almalinux-8-gencloud-ext4-aarch64",
    "qemu.almalinux-9-gencloud-ext4-x86_64",
    "qemu.almalinux-9-gencloud-ext4-aarch64",
    "source.qemu.almalinux_10_gencloud_ext4_x86_64",
    "source.qemu.almalinux_10_gencloud_ext4_aarch64",
    "source.qemu.almalinux_10_gencloud_ext4_x86_64_v2",
    "source.qemu.almalinux_kitten_10_gencloud_ext4_x86_64",
    "source.qemu.almalinux_kitten_10_gencloud_ext4_aarch64",
    "source.qemu.almalinux_kitten_10_gencloud_ext4_x86_64_v2",
  ]
}
