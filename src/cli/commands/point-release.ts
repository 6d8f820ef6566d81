import type { Command } from "commander";
import { parseDuration } from "../../durations.js";
import { lookupRelease } from "../../pipeline/release-lookup.js";
import { DEFAULT_MIRROR } from "../../resolve/release-package.js";
import { action, printJson, printLines } from "../util.js";

export interface PointReleaseOptions {
  version: string;
  arch: string;
  mirror?: string | undefined;
  timeout: string;
  json?: boolean;
}

export const POINT_RELEASE_EXAMPLES =
  "  cloud-images point-release --version 9 --arch x86_64\n" +
  "  cloud-images point-release --version 10 --arch x86_64_v2 --mirror https://repo.almalinux.org/almalinux --json";

export function register(program: Command): void {
  program
    .command("point-release")
    .description(
      "the current point release (e.g. 9.6), read from the mirror's almalinux-release-latest package",
    )
    .requiredOption("--version <V>", "major version: 10-kitten, 10, 9 or 8 (Kitten is always 10, no network)")
    .requiredOption("--arch <A>", "x86_64, aarch64, or x86_64_v2 (versions with -v2 legs)")
    .option(
      "--mirror <URL>",
      `base URL holding almalinux-release-latest-V.A.rpm (default: $CLOUD_IMAGES_MIRROR, else ${DEFAULT_MIRROR})`,
    )
    .option("--timeout <SECONDS>", "give up after this many seconds", "30")
    .option("--json", 'print {"release", "url", "package", "bytesFetched", "requests"}')
    .addHelpText(
      "after",
      "\nOnly the package's lead, signature and header are downloaded (HTTP Range requests).\n" +
        "`cloud-images release --version V --arch A` (the older spelling) does the same.\n" +
        `\nExamples:\n${POINT_RELEASE_EXAMPLES}`,
    )
    .action(action(pointRelease));
}

/** Prints the point release; shared with `release --version … --arch …`. */
export async function pointRelease(opts: PointReleaseOptions): Promise<number> {
  const timeoutMs = parseDuration(opts.timeout, {
    flag: "--timeout",
    unit: "seconds",
    min: 0.001,
    fractions: true,
  });
  const info = await lookupRelease({
    version: opts.version,
    arch: opts.arch,
    mirror: opts.mirror ?? (process.env.CLOUD_IMAGES_MIRROR || DEFAULT_MIRROR),
    timeoutMs,
  });
  if (opts.json) printJson(info);
  else printLines([info.release]);
  return 0;
}
