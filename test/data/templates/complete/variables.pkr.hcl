// Shared settings, as the upstream variables.pkr.hcl holds them.
variable "qemu_binary" {
  type    = string
  default = ""
}

variable "ovmf_code" {
  type    = string
  default = "/usr/share/OVMF/OVMF_CODE.secboot.fd"
}

variable "cpus" {
  type    = number
  default = 2
}

locals {
  iso_url_9_x86_64  = "https://repo.almalinux.org/almalinux/9/isos/x86_64/AlmaLinux-9-latest-x86_64-boot.iso"
  iso_url_9_aarch64 = "https://repo.almalinux.org/almalinux/9/isos/aarch64/AlmaLinux-9-latest-aarch64-boot.iso"
}

variable "os_ver_8" {
  type    = string
  default = "8.10"
}

variable "os_ver_9" {
  type    = string
  default = "9.6"
}

variable "os_ver_10" {
  type    = string
  default = "10.1"
}

variable "build_number" {
  type    = number
  default = 0
}
