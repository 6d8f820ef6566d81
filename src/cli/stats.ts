/** CLOUD_IMAGES_STATS=1: one line of figures on stderr (for benchmarks), e.g. how much of the image was read. */
export function printStats(figures: Record<string, number | string>): void {
  if (process.env.CLOUD_IMAGES_STATS !== "1") return;
  const parts = Object.entries(figures).map(([k, v]) => `${k}=${v}`);
  process.stderr.write(`cloud-images: stats: ${parts.join(" ")}\n`);
}
