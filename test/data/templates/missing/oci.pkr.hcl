source "qemu" "almalinux-9-oci-x86_64" {
  cpus = 2
}

build {
  sources = [
    "qemu.almalinux-9-oci-x86_64",
    "qemu.almalinux-9-oci-aarch64",
  ]
}
