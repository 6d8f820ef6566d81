# GenericCloud with an ext4 root: "gencloud-ext4" in dashed names, "gencloud_ext4" in underscored ones.

source "qemu" "almalinux-8-gencloud-ext4-x86_64" {
  cpus = var.cpus
}
source "qemu" "almalinux-8-gencloud-ext4-aarch64" {
  cpus = var.cpus
}
source "qemu" "almalinux-9-gencloud-ext4-x86_64" {
  cpus = var.cpus
}
source "qemu" "almalinux-9-gencloud-ext4-aarch64" {
  cpus = var.cpus
}
source "qemu" "almalinux_10_gencloud_ext4_x86_64" {
  cpus = var.cpus
}
source "qemu" "almalinux_10_gencloud_ext4_aarch64" {
  cpus = var.cpus
}
source "qemu" "almalinux_10_gencloud_ext4_x86_64_v2" {
  cpus = var.cpus
}
source "qemu" "almalinux_kitten_10_gencloud_ext4_x86_64" {
  cpus = var.cpus
}
source "qemu" "almalinux_kitten_10_gencloud_ext4_aarch64" {
  cpus = var.cpus
}
source "qemu" "almalinux_kitten_10_gencloud_ext4_x86_64_v2" {
  cpus = var.cpus
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
