/**
 * Input files that are not regular files: a FIFO given as an image (or checksum, list, manifest) used
 * to hang inspect, ls, cat, verify, packages, sbom, publish and report forever. Every command now says
 * what the path is, at once, with exit 2; so does a missing file, everywhere.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256File } from "../../src/files.js";
import { runCli } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "files-inputs-"));
const fifo = join(dir, "image.qcow2");
const socketPath = join(dir, "image.sock");
const missing = join(dir, "missing.qcow2");
const list = join(dir, "list.txt");
let server: Server;

beforeAll(async () => {
  spawnSync("mkfifo", [fifo]);
  writeFileSync(list, "bash\n");
  server = createServer();
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

/** Each command with `P` standing for the input path under test. */
const COMMANDS: readonly (readonly string[])[] = [
  ["inspect", "P"],
  ["ls", "P:/etc"],
  ["cat", "P:/etc/os-release"],
  [
    "verify",
    "P",
    "--release-string",
    "AlmaLinux release 9.6",
    "--arch",
    "x86_64",
    "--packages-out",
    join(dir, "out.txt"),
  ],
  ["packages", "P"],
  ["packages", "diff", "P", list],
  ["packages", "diff", list, "P"],
  ["sbom", "P"],
  ["publish", "P", "--store", `file://${join(dir, "bucket")}`, "--prefix", "images/x"],
  ["report", "--manifest", "P"],
];

const SOME = COMMANDS.filter((c) => c[0] === "inspect" || c[0] === "publish");

describe.each([
  ["a FIFO", fifo, "is a FIFO (named pipe)", COMMANDS],
  ["a missing file", missing, "no such file", COMMANDS],
  ["a socket", socketPath, "is a socket", SOME],
  ["a character device", "/dev/zero", "is a character device", SOME],
])("%s as input", (_what, path, says, commands) => {
  it.concurrent.each(commands.map((c) => [c.join(" "), c] as const))(
    "%s: one line naming it, exit 2, at once",
    async (_name, command) => {
      const args = command.map((a) => a.replace(/^P/, path));
      const started = Date.now();
      const r = await runCli(args);
      expect(r.code, r.stderr).toBe(2);
      const lines = r.stderr.trimEnd().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^cloud-images: error: /);
      expect(lines[0]).toContain(path);
      expect(lines[0]).toContain(says);
      expect(Date.now() - started).toBeLessThan(20_000);
    },
  );
});

it("the checksum of a FIFO is refused unread", async () => {
  await expect(sha256File(fifo)).rejects.toThrow(`${fifo} is a FIFO (named pipe), not a regular file`);
});
