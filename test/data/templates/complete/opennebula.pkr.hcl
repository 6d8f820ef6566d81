/* OpenNebula. Kitten aarch64 is listed through a source block inside build. */

source "qemu" "almalinux-8-opennebula-x86_64" {
  cpus = var.cpus
}
source "qemu" "almalinux-8-opennebula-aarch64" {
  cpus = var.cpus
}
source "qemu" "almalinux-9-opennebula-x86_64" {
  cpus = var.cpus
}
source "qemu" "almalinux-9-opennebula-aarch64" {
  cpus = var.cpus
}
source "qemu" "almalinux_10_opennebula_x86_64" {
  cpus = var.cpus
}
source "qemu" "almalinux_10_opennebula_aarch64" {
  cpus = var.cpus
}
source "qemu" "almalinux_10_opennebula_x86_64_v2" {
  cpus = var.cpus
}
source "qemu" "almalinux_kitten_10_opennebula_x86_64" {
  cpus = var.cpus
}
source "qemu" "almalinux_kitten_10_opennebula_aarch64" {
  cpus = var.cpus
}
source "qemu" "almalinux_kitten_10_opennebula_x86_64_v2" {
  cpus = var.cpus
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
