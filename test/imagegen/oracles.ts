/**
 * Independent checks of built images: only real tools (sgdisk, qemu-img, xfs_db, debugfs, mtools, rpm)
 * and byte reads at offsets those tools report. Nothing here uses imagegen's own code.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function sh(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): string {
  return execFileSync(cmd, args, {
    encoding: "utf8",
    env: { ...process.env, ...env },
    maxBuffer: 64 << 20,
    stdio: ["ignore", "pipe", "pipe"],
  });
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `imagegen-test-${prefix}-`));
}

export interface GptRow {
  number: number;
  firstSector: number;
  lastSector: number;
  code: string;
  name: string;
}

/** Partition rows of `sgdisk -p`. */
export function sgdiskPartitions(disk: string): GptRow[] {
  const out = sh("sgdisk", ["-p", disk]);
  const rows: GptRow[] = [];
  for (const line of out.split("\n")) {
    const m = /^\s+(\d+)\s+(\d+)\s+(\d+)\s+\S+\s+\S+\s+([0-9A-F]{4})\s+(.*)$/.exec(line);
    if (m)
      rows.push({ number: +m[1]!, firstSector: +m[2]!, lastSector: +m[3]!, code: m[4]!, name: m[5]!.trim() });
  }
  return rows;
}

export function qemuInfo(image: string): {
  format: string;
  virtualSize: number;
  compressionType: string | null;
} {
  const j = JSON.parse(sh("qemu-img", ["info", "--output=json", image]));
  return {
    format: j.format,
    virtualSize: j["virtual-size"],
    compressionType: j["format-specific"]?.data?.["compression-type"] ?? null,
  };
}

/** Copies bytes [offset, offset+size) of a raw or qcow2 image into a sparse raw file, with qemu-img. */
export function extractRange(image: string, offset: number, size: number, out: string): void {
  const format = qemuInfo(image).format;
  const file =
    format === "qcow2"
      ? `file.driver=qcow2,file.file.driver=file,file.file.filename=${image}`
      : `file.driver=file,file.filename=${image}`;
  sh("qemu-img", [
    "convert",
    "-O",
    "raw",
    "--image-opts",
    `driver=raw,offset=${offset},size=${size},${file}`,
    out,
  ]);
}

// ---- XFS through xfs_db

export function xfsDb(img: string, ...cmds: string[]): string {
  return sh("xfs_db", ["-r", ...cmds.flatMap((c) => ["-c", c]), img]);
}

function field(out: string, name: string): string {
  const m = new RegExp(`^${name.replace(/\./g, "\\.")} = (.*)$`, "m").exec(out);
  if (!m) throw new Error(`xfs_db printed no ${name}:\n${out}`);
  return m[1]!;
}

/** Names in a directory (`xfs_db ls`), without . and .. */
export function xfsLs(img: string, path: string): { name: string; type: string }[] {
  const out = xfsDb(img, `ls ${path}`);
  const rows: { name: string; type: string }[] = [];
  for (const line of out.split("\n")) {
    const m = /^\d+\s+\d+\s+(\S+)\s+0x[0-9a-f]+\s+\d+\s+(.*) \((good|bad)\)$/.exec(line);
    if (m && m[2] !== "." && m[2] !== "..") rows.push({ type: m[1]!, name: m[2]! });
  }
  return rows;
}

export function xfsInode(img: string, path: string, ...fields: string[]): Record<string, string> {
  const out = xfsDb(img, `path ${path}`, `p ${fields.join(" ")}`);
  return Object.fromEntries(fields.map((f) => [f, field(out, f)]));
}

export function xfsSymlink(img: string, path: string): string {
  const v = xfsInode(img, path, "u3.symlink")["u3.symlink"]!;
  return JSON.parse(v);
}

/** A regular file's bytes: extents from `xfs_db bmap`, read at (agno * agblocks + agbno) * blocksize. */
export function xfsReadFile(img: string, path: string): Buffer {
  const sb = xfsDb(img, "sb 0", "p blocksize agblocks");
  const blocksize = Number(field(sb, "blocksize"));
  const agblocks = Number(field(sb, "agblocks"));
  const out = xfsDb(img, `path ${path}`, "p core.size", "bmap");
  const size = Number(field(out, "core.size"));
  const data = Buffer.alloc(size);
  const fd = openSync(img, "r");
  try {
    for (const line of out.split("\n")) {
      const m = /^data offset (\d+) startblock \d+ \((\d+)\/(\d+)\) count (\d+) flag (\d)$/.exec(line);
      if (!m) continue;
      const [fileBlock, agno, agbno, count, flag] = m.slice(1).map(Number) as [
        number,
        number,
        number,
        number,
        number,
      ];
      if (flag !== 0) continue; // unwritten: reads as zeros
      const from = fileBlock * blocksize;
      const len = Math.min(count * blocksize, size - from);
      if (len > 0) readSync(fd, data, from, len, (agno * agblocks + agbno) * blocksize);
    }
  } finally {
    closeSync(fd);
  }
  return data;
}

// ---- ext4 through debugfs

export function debugfs(img: string, request: string): string {
  return sh("debugfs", ["-R", request, img]);
}

/** `debugfs -R 'dump PATH OUT'` (debugfs prints its banner on stderr). */
export function ext4ReadFile(img: string, path: string, dir: string): Buffer {
  const out = join(dir, `dump-${path.replace(/\//g, "_")}`);
  debugfs(img, `dump ${path} ${out}`);
  const fd = openSync(out, "r");
  try {
    const chunks: Buffer[] = [];
    const buf = Buffer.alloc(1 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      chunks.push(Buffer.from(buf.subarray(0, n)));
    }
    return Buffer.concat(chunks);
  } finally {
    closeSync(fd);
  }
}

// ---- rpm

/** rpm -qa against a database directory (a copy is queried: rpm may create files next to it). */
export function rpmQuery(dbDir: string, bdb: boolean, ...args: string[]): string {
  const copy = tempDir("rpmdb");
  try {
    mkdirSync(copy, { recursive: true });
    sh("cp", ["-a", `${dbDir}/.`, copy]);
    const backend = bdb ? ["--define", "_db_backend bdb_ro"] : [];
    const r = spawnSync("rpm", ["--dbpath", copy, ...backend, ...args], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`rpm ${args.join(" ")} failed: ${r.stderr}`);
    return r.stdout;
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

/** Sorted like `LC_ALL=C sort`, by the real sort. */
export function sortC(lines: string[]): string[] {
  const r = spawnSync("sort", [], {
    input: lines.map((l) => `${l}\n`).join(""),
    env: { LC_ALL: "C" },
    encoding: "utf8",
  });
  return r.stdout.split("\n").filter(Boolean);
}

export function rpmNames(dbDir: string, bdb: boolean): string[] {
  return sortC(rpmQuery(dbDir, bdb, "-qa", "--qf", "%{NAME}\\n").split("\n").filter(Boolean));
}

export function rpmNevra(dbDir: string, bdb: boolean): string[] {
  const qf = "%{NAME}-%|EPOCH?{%{EPOCH}:}|%{VERSION}-%{RELEASE}.%{ARCH}\\n";
  return sortC(rpmQuery(dbDir, bdb, "-qa", "--qf", qf).split("\n").filter(Boolean));
}
