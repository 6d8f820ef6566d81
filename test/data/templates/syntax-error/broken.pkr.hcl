source "qemu" "almalinux-9-gencloud-aarch64" {
  cpus = 2

build {
  sources = ["qemu.almalinux-9-gencloud-aarch64"]
}
