source "qemu" "almalinux-9-gencloud-x86_64" {
  cpus = 2
}

# Defined but built by nothing: `packer build -only=qemu.almalinux-9-gencloud-aarch64` would do nothing.
source "qemu" "almalinux-9-gencloud-aarch64" {
  cpus = 2
}

build {
  sources = ["qemu.almalinux-9-gencloud-x86_64"]
}
