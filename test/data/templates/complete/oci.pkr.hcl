# OCI keeps the dashed names for 10 too, and has no Kitten.

source "qemu" "almalinux-8-oci-x86_64" {
  cpus = var.cpus
}
source "qemu" "almalinux-8-oci-aarch64" {
  cpus = var.cpus
}
source "qemu" "almalinux-9-oci-x86_64" {
  cpus = var.cpus
}
source "qemu" "almalinux-9-oci-aarch64" {
  cpus = var.cpus
}
source "qemu" "almalinux-10-oci-x86_64" {
  cpus = var.cpus
}
source "qemu" "almalinux-10-oci-aarch64" {
  cpus = var.cpus
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
