/* OpenNebula. Kitten aarch64 is listed through a source block inside build. */

source "qemu" "almalinux-8-opennebula-x86_64" {
  vm_name = "AlmaLinux-8-OpenNebula-${var.os_ver_8}-${formatdate("YYYYMMDD", timestamp())}.x86_64.qcow2"
  cpus    = var.cpus
}
source "qemu" "almalinux-8-opennebula-aarch64" {
  vm_name = "AlmaLinux-8-OpenNebula-${var.os_ver_8}-${formatdate("YYYYMMDD", timestamp())}.aarch64.qcow2"
  cpus    = var.cpus
}
source "qemu" "almalinux-9-opennebula-x86_64" {
  vm_name = "AlmaLinux-9-OpenNebula-${var.os_ver_9}-${formatdate("YYYYMMDD", timestamp())}.x86_64.qcow2"
  cpus    = var.cpus
}
source "qemu" "almalinux-9-opennebula-aarch64" {
  vm_name = "AlmaLinux-9-OpenNebula-${var.os_ver_9}-${formatdate("YYYYMMDD", timestamp())}.aarch64.qcow2"
  cpus    = var.cpus
}
source "qemu" "almalinux_10_opennebula_x86_64" {
  vm_name = "AlmaLinux-10-OpenNebula-${var.os_ver_10}-${formatdate("YYYYMMDD", timestamp())}.${var.build_number}.x86_64.qcow2"
  cpus    = var.cpus
}
source "qemu" "almalinux_10_opennebula_aarch64" {
  vm_name = "AlmaLinux-10-OpenNebula-${var.os_ver_10}-${formatdate("YYYYMMDD", timestamp())}.${var.build_number}.aarch64.qcow2"
  cpus    = var.cpus
}
source "qemu" "almalinux_10_opennebula_x86_64_v2" {
  vm_name = "AlmaLinux-10-OpenNebula-${var.os_ver_10}-${formatdate("YYYYMMDD", timestamp())}.${var.build_number}.x86_64_v2.qcow2"
  cpus    = var.cpus
}
source "qemu" "almalinux_kitten_10_opennebula_x86_64" {
  vm_name = "AlmaLinux-Kitten-OpenNebula-10-${formatdate("YYYYMMDD", timestamp())}.${var.build_number}.x86_64.qcow2"
  cpus    = var.cpus
}
source "qemu" "almalinux_kitten_10_opennebula_aarch64" {
  vm_name = "AlmaLinux-Kitten-OpenNebula-10-${formatdate("YYYYMMDD", timestamp())}.${var.build_number}.aarch64.qcow2"
  cpus    = var.cpus
}
source "qemu" "almalinux_kitten_10_opennebula_x86_64_v2" {
  vm_name = "AlmaLinux-Kitten-OpenNebula-10-${formatdate("YYYYMMDD", timestamp())}.${var.build_number}.x86_64_v2.qcow2"
  cpus    = var.cpus
}

build {
  sources = [
    "qemu.almalinux-8-opennebula-x86_64",
    "qemu.almalinux-8-opennebula-aarch64",
    "qemu.almalinux-9-opennebula-x86_64",
    "qemu.almalinux-9-opennebula-aarch64",
    "source.qemu.almalinux_10_opennebula_x86_64",
    "source.qemu.almalinux_10_opennebula_aarch64",
    "source.qemu.almalinux_10_opennebula_x86_64_v2",
    "source.qemu.almalinux_kitten_10_opennebula_x86_64",
    "source.qemu.almalinux_kitten_10_opennebula_x86_64_v2",
  ]

  source "source.qemu.almalinux_kitten_10_opennebula_aarch64" {
    cpus = 4
  }
}
