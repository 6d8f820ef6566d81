# A non-QEMU source: defined, built, used by no catalog leg.
source "amazon-ebs" "almalinux-9-ami-x86_64" {
  region        = "us-east-1"
  instance_type = "t3.micro"
}

build {
  sources = ["source.amazon-ebs.almalinux-9-ami-x86_64"]
}
