source "qemu" "almalinux-9-oci-x86_64" {
  vm_name = "AlmaLinux-9-OCI-${var.os_ver_9}-${formatdate("YYYYMMDD", timestamp())}.x86_64.qcow2"
  cpus    = 2
}

build {
  sources = [
    "qemu.almalinux-9-oci-x86_64",
    "qemu.almalinux-9-oci-aarch64",
  ]
}
