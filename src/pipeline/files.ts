/** Files a leg writes beside its image, all written atomically (temp file + rename). */

export const sidecar = {
  checksum: (image: string) => `${image}.sha256sum`,
  packages: (image: string) => `${image}.txt`,
  sbom: (image: string) => `${image}.cdx.json`,
  manifest: (image: string) => `${image}.manifest.json`,
  packerLog: (image: string) => `${image}.packer.log`,
};
