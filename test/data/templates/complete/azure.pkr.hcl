# Azure: 8 and 9 keep the dashed names, 64k and 10 use underscores, Kitten puts 64k last.

source "qemu" "almalinux-8-azure-x86_64" {
  qemu_binary = var.qemu_binary
  vm_name     = "AlmaLinux-8-Azure-${formatdate("YYYYMMDD", timestamp())}.x86_64.raw"
  format      = "raw"
}

source "qemu" "almalinux-9-azure-x86_64" {
  vm_name     = "AlmaLinux-9-Azure-${var.os_ver_9}-${formatdate("YYYYMMDD", timestamp())}${var.build_number}.x86_64.raw"
  format      = "raw"
  qemu_binary = var.qemu_binary
}

source "qemu" "almalinux-9-azure-aarch64" {
  vm_name     = "AlmaLinux-9-Azure-${var.os_ver_9}-${formatdate("YYYYMMDD", timestamp())}${var.build_number}.aarch64.raw"
  format      = "raw"
  qemu_binary = var.qemu_binary
  qemuargs    = [["-boot", "strict=on"], ["-monitor", "none"]]
}

source "qemu" "almalinux_9_azure_64k_aarch64" {
  vm_name     = "AlmaLinux-Azure-${var.os_ver_9}-${formatdate("YYYYMMDD", timestamp())}${var.build_number}-64k.aarch64.raw"
  format      = "raw"
  qemu_binary = var.qemu_binary
}

source "qemu" "almalinux_10_azure_x86_64" {
  vm_name = "AlmaLinux-10-Azure-${var.os_ver_10}-${formatdate("YYYYMMDD", timestamp())}.${var.build_number}.x86_64.raw"
  format  = "raw"
  cpus    = var.cpus
}

source "qemu" "almalinux_10_azure_aarch64" {
  vm_name = "AlmaLinux-10-Azure-${var.os_ver_10}-${formatdate("YYYYMMDD", timestamp())}.${var.build_number}.aarch64.raw"
  format  = "raw"
  cpus    = var.cpus
}

source "qemu" "almalinux_10_azure_64k_aarch64" {
  vm_name = "AlmaLinux-10-Azure-${var.os_ver_10}-${formatdate("YYYYMMDD", timestamp())}.${var.build_number}-64k.aarch64.raw"
  format  = "raw"
  cpus    = var.cpus
}

source "qemu" "almalinux_kitten_10_azure_x86_64" {
  vm_name           = "AlmaLinux-Kitten-Azure-10-${formatdate("YYYYMMDD", timestamp())}.${var.build_number}.x86_64.raw"
  format            = "raw"
  efi_firmware_code = var.ovmf_code
}

source "qemu" "almalinux_kitten_10_azure_aarch64" {
  vm_name           = "AlmaLinux-Kitten-Azure-10-${formatdate("YYYYMMDD", timestamp())}.${var.build_number}.aarch64.raw"
  format            = "raw"
  efi_firmware_code = var.ovmf_code
}

source "qemu" "almalinux_kitten_10_azure_aarch64_64k" {
  vm_name           = "AlmaLinux-Kitten-64k-Azure-10-${formatdate("YYYYMMDD", timestamp())}.${var.build_number}.aarch64.raw"
  format            = "raw"
  efi_firmware_code = var.ovmf_code
}

build {
  sources = [
    "qemu.almalinux-8-azure-x86_64",
    "qemu.almalinux-9-azure-x86_64",
    "qemu.almalinux-9-azure-aarch64",
    "qemu.almalinux_9_azure_64k_aarch64",
  ]

  provisioner "ansible" {
    playbook_file = "./ansible/azure.yml"
  }
}

build {
  sources = [
    "source.qemu.almalinux_10_azure_x86_64",
    "source.qemu.almalinux_10_azure_aarch64",
    "source.qemu.almalinux_10_azure_64k_aarch64",
    "source.qemu.almalinux_kitten_10_azure_x86_64",
    "source.qemu.almalinux_kitten_10_azure_aarch64",
    "source.qemu.almalinux_kitten_10_azure_aarch64_64k",
  ]
}
