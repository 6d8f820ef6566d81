image_arch = "x86_64"
