/** Running the Debian tools the builder drives: argument arrays only (no shell), stderr kept for errors. */
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { EnvironmentError } from "../src/errors.js";
import { runChild } from "../src/process/children.js";

export interface RunResult {
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string;
  /** Exit codes that count as success (default: 0 only). */
  okCodes?: readonly number[];
}

/** Runs `cmd args`; a non-zero exit becomes an EnvironmentError naming the command and its last stderr line. */
export async function run(
  cmd: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const r = await runChild(cmd, args, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    input: options.input,
  }).catch((e: Error) => {
    throw new EnvironmentError(`imagegen: ${e.message}`);
  });
  if (r.exitCode !== null && (options.okCodes ?? [0]).includes(r.exitCode)) {
    return { stdout: r.stdout, stderr: r.stderr };
  }
  const last = lastMeaningfulLine(r.stderr) || lastMeaningfulLine(r.stdout) || "no output";
  const status = r.signal ? `signal ${r.signal}` : `exit ${r.exitCode}`;
  throw new EnvironmentError(`imagegen: ${cmd} failed (${status}): ${last}`);
}

function lastMeaningfulLine(s: string): string {
  const lines = s
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  return lines[lines.length - 1] ?? "";
}

/** The Debian package that provides each tool the builder needs. */
export const TOOL_PACKAGES: Readonly<Record<string, string>> = {
  rpmbuild: "rpm",
  rpm: "rpm",
  "db5.3_load": "db5.3-util",
  sqlite3: "sqlite3",
  sgdisk: "gdisk",
  "mkfs.fat": "dosfstools",
  mcopy: "mtools",
  "mkfs.xfs": "xfsprogs",
  xfs_io: "xfsprogs",
  xfs_db: "xfsprogs",
  "mkfs.ext4": "e2fsprogs",
  e2fsck: "e2fsprogs",
  "qemu-img": "qemu-utils",
  sort: "coreutils",
  mount: "mount",
  umount: "mount",
  setfattr: "attr",
  debugfs: "e2fsprogs",
  find: "findutils",
};

/** Absolute path of an executable on PATH (plus the sbin directories), or null. */
export function which(tool: string): string | null {
  const dirs = (process.env.PATH ?? "").split(delimiter).concat(["/usr/sbin", "/sbin"]);
  for (const dir of dirs) {
    if (!dir) continue;
    const p = join(dir, tool);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

/** Throws one EnvironmentError listing every missing tool and the apt-get line that installs them. */
export function requireTools(tools: readonly string[]): void {
  const missing = tools.filter((t) => which(t) === null);
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map((t) => TOOL_PACKAGES[t] ?? t))];
  throw new EnvironmentError(
    `imagegen: missing tools: ${missing.join(", ")} (install: apt-get install ${pkgs.join(" ")})`,
  );
}

/** rpm --root chroots into the tree, which needs root. */
export function requireRoot(): void {
  if (typeof process.getuid === "function" && process.getuid() !== 0) {
    throw new EnvironmentError(
      "imagegen: building an image needs root (rpm --root uses chroot); run as root, or reuse a cached image",
    );
  }
}
