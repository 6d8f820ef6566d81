# GenericCloud (XFS root), with the ppc64le and s390x sources no catalog leg builds.

source "qemu" "almalinux-8-gencloud-x86_64" {
  vm_name      = "AlmaLinux-8-GenericCloud-${var.os_ver_8}-${formatdate("YYYYMMDD", timestamp())}.x86_64.qcow2"
  format       = "qcow2"
  boot_command = ["<tab> inst.text inst.ks=http://{{ .HTTPIP }}:{{ .HTTPPort }}/almalinux-8.gencloud-x86_64.ks<enter><wait>"]
}
source "qemu" "almalinux-8-gencloud-aarch64" {
  vm_name = "AlmaLinux-8-GenericCloud-${var.os_ver_8}-${formatdate("YYYYMMDD", timestamp())}.aarch64.qcow2"
  format  = "qcow2"
  cpus    = var.cpus
}
source "qemu" "almalinux-8-gencloud-ppc64le" {
  cpus = var.cpus
}

source "qemu" "almalinux-9-gencloud-x86_64" {
  vm_name = "AlmaLinux-9-GenericCloud-${var.os_ver_9}-${formatdate("YYYYMMDD", timestamp())}.x86_64.qcow2"
  format  = "qcow2"
  iso_url = local.iso_url_9_x86_64
}
source "qemu" "almalinux-9-gencloud-aarch64" {
  vm_name = "AlmaLinux-9-GenericCloud-${var.os_ver_9}-${formatdate("YYYYMMDD", timestamp())}.aarch64.qcow2"
  format  = "qcow2"
  iso_url = local.iso_url_9_aarch64
}
source "qemu" "almalinux-9-gencloud-ppc64le" {
  cpus = var.cpus
}
source "qemu" "almalinux-9-gencloud-s390x" {
  cpus = var.cpus
}

source "qemu" "almalinux_10_gencloud_x86_64" {
  vm_name = "AlmaLinux-10-GenericCloud-${var.os_ver_10}-${formatdate("YYYYMMDD", timestamp())}.${var.build_number}.x86_64.qcow2"
  format  = "qcow2"
  cpus    = var.cpus
}
source "qemu" "almalinux_10_gencloud_aarch64" {
  vm_name = "AlmaLinux-10-GenericCloud-${var.os_ver_10}-${formatdate("YYYYMMDD", timestamp())}.${var.build_number}.aarch64.qcow2"
  format  = "qcow2"
  cpus    = var.cpus
}
source "qemu" "almalinux_10_gencloud_x86_64_v2" {
  vm_name   = "AlmaLinux-10-GenericCloud-${var.os_ver_10}-${formatdate("YYYYMMDD", timestamp())}.${var.build_number}.x86_64_v2.qcow2"
  format    = "qcow2"
  cpu_model = "Nehalem"
}
source "qemu" "almalinux_10_gencloud_ppc64le" {
  cpus = var.cpus
}

source "qemu" "almalinux_kitten_10_gencloud_x86_64" {
  vm_name = "AlmaLinux-Kitten-GenericCloud-10-${formatdate("YYYYMMDD", timestamp())}.${var.build_number}.x86_64.qcow2"
  format  = "qcow2"
  cpus    = var.cpus
}
source "qemu" "almalinux_kitten_10_gencloud_aarch64" {
  vm_name = "AlmaLinux-Kitten-GenericCloud-10-${formatdate("YYYYMMDD", timestamp())}.${var.build_number}.aarch64.qcow2"
  format  = "qcow2"
  cpus    = var.cpus
}
source "qemu" "almalinux_kitten_10_gencloud_x86_64_v2" {
  vm_name   = "AlmaLinux-Kitten-GenericCloud-10-${formatdate("YYYYMMDD", timestamp())}.${var.build_number}.x86_64_v2.qcow2"
  format    = "qcow2"
  cpu_model = "Nehalem"
}

build {
  sources = [
    "qemu.almalinux-8-gencloud-x86_64",
    "qemu.almalinux-8-gencloud-aarch64",
    "qemu.almalinux-8-gencloud-ppc64le",
    "qemu.almalinux-9-gencloud-x86_64",
    "qemu.almalinux-9-gencloud-aarch64",
    "qemu.almalinux-9-gencloud-ppc64le",
    "qemu.almalinux-9-gencloud-s390x",
  ]
}

build {
  sources = [
    "source.qemu.almalinux_10_gencloud_x86_64",
    "source.qemu.almalinux_10_gencloud_aarch64",
    "source.qemu.almalinux_10_gencloud_x86_64_v2",
    "source.qemu.almalinux_10_gencloud_ppc64le",
    "source.qemu.almalinux_kitten_10_gencloud_x86_64",
    "source.qemu.almalinux_kitten_10_gencloud_aarch64",
    "source.qemu.almalinux_kitten_10_gencloud_x86_64_v2",
  ]

  provisioner "ansible" {
    playbook_file    = "./ansible/gencloud.yml"
    ansible_env_vars = ["ANSIBLE_PIPELINING=True", "ANSIBLE_REMOTE_TEMP=/tmp"]
    except           = ["qemu.almalinux_10_gencloud_ppc64le"]
  }
}
