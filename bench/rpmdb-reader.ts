// Reads an rpm database directory with our reader and prints the sorted package names (the seed's
// package list); bundled by rpmdb.bench.ts so Node starts it as the CLI bundle would.
import { compareC, hostRpmdbDir, readRpmdb } from "../src/rpm/index.js";

const db = await readRpmdb(hostRpmdbDir(process.argv[2]!));
process.stdout.write(
  `${db.packages
    .map((p) => p.name)
    .sort(compareC)
    .join("\n")}\n`,
);
