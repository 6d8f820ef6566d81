source "qemu" "almalinux-9-gencloud-x86_64" {
  cpus = 2
}

build {
  sources = ["qemu.almalinux-9-gencloud-x86_64"]
}
