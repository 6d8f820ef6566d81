source "qemu" "almalinux-9-gencloud-x86_64" {
  vm_name = "AlmaLinux-9-GenericCloud-${var.os_ver_9}-${formatdate("YYYYMMDD", timestamp())}.x86_64.qcow2"
  format  = "qcow2"
  cpus    = 2
}

# Defined but built by nothing: `packer build -only=qemu.almalinux-9-gencloud-aarch64` would do nothing.
source "qemu" "almalinux-9-gencloud-aarch64" {
  vm_name = "AlmaLinux-9-GenericCloud-${var.os_ver_9}-${formatdate("YYYYMMDD", timestamp())}.aarch64.qcow2"
  format  = "qcow2"
  cpus    = 2
}

build {
  sources = ["qemu.almalinux-9-gencloud-x86_64"]
}
