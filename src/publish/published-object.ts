/** What a store reports about one published object; the leg manifest records these as they are. */
import { z } from "zod";

export const publishedObjectSchema = z.object({
  /** What the object is: the image, its checksum, its package list, its SBOM... */
  role: z.enum(["image", "checksum", "packages", "sbom", "manifest", "other"]),
  name: z.string(),
  key: z.string(),
  size: z.number().int().nonnegative(),
  sha256: z.string(),
  /** Public download URL, when the store has one. */
  url: z.string().optional(),
  /** True when an identical object already existed and was not uploaded again. */
  skipped: z.boolean().optional(),
});
export type PublishedObject = z.infer<typeof publishedObjectSchema>;
