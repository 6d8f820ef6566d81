// `cloud-images packages` and `packages diff` through the real CLI: lists against Debian's rpm on the
// same database, name diffs against comm(1) and diff(1) on the real AlmaLinux lists, version changes
// against rpm's own ordering.
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BuiltImage } from "../../imagegen/index.js";
import { sortPackages } from "../../src/inspect/package-list.js";
import { hostRpmdbDir, readRpmdb } from "../../src/rpm/index.js";
import { runCli } from "../helpers/cli.js";
import { expectedListFile, image, removeDir, sortC, tempDir } from "./images.js";

const PACKAGES = fileURLToPath(new URL("../data/packages/", import.meta.url));
const L95 = `${PACKAGES}AlmaLinux-9-GenericCloud-9.5-20241120.x86_64.qcow2.txt`;
const L97 = `${PACKAGES}AlmaLinux-9-GenericCloud-9.7-20251118.x86_64.qcow2.txt`;
const L8 = `${PACKAGES}AlmaLinux-8-OCI-8.10-20260225.x86_64.qcow2.txt`;
const L10 = `${PACKAGES}AlmaLinux-10-GenericCloud-10.1-20251125.0.x86_64.qcow2.txt`;
const L10V2 = `${PACKAGES}AlmaLinux-10-GenericCloud-10.1-20251125.0.x86_64_v2.qcow2.txt`;

let tmp: string;
let al9: BuiltImage;
let al8: BuiltImage;
let wrongArch: BuiltImage;

beforeAll(async () => {
  tmp = tempDir("packages");
  [al9, al8, wrongArch] = await Promise.all([image("al9"), image("al8"), image("wrongArch")]);
});

afterAll(() => removeDir(tmp));

/** `rpm -qa` with a query format on a copy of the database imagegen installed into the image. */
function rpmQa(img: BuiltImage, qf: string): string[] {
  const copy = join(tmp, `db-${Math.random().toString(36).slice(2)}`);
  execFileSync("cp", ["-a", img.rpmdbDir, copy]);
  const backend = img.expected.rpmdbBackend === "bdb" ? ["--define", "_db_backend bdb_ro"] : [];
  const r = spawnSync("rpm", ["--dbpath", copy, ...backend, "-qa", "--qf", qf], { encoding: "utf8" });
  removeDir(copy);
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.split("\n").filter((l) => l !== "");
}

/** Added and removed lines by comm(1) on C-sorted copies (duplicates paired as comm pairs them). */
function comm(a: string, b: string): { added: string[]; removed: string[] } {
  const env = { LC_ALL: "C", PATH: process.env.PATH };
  execFileSync("sort", ["-o", join(tmp, "a"), a], { env });
  execFileSync("sort", ["-o", join(tmp, "b"), b], { env });
  const run = (flag: string) =>
    execFileSync("comm", [flag, join(tmp, "a"), join(tmp, "b")], { env, encoding: "utf8" })
      .split("\n")
      .filter(Boolean);
  return { added: run("-13"), removed: run("-23") };
}

/** The same from diff(1): `> ` lines were added, `< ` lines removed. */
function diffTool(a: string, b: string): { added: string[]; removed: string[] } {
  const env = { LC_ALL: "C", PATH: process.env.PATH };
  execFileSync("sort", ["-o", join(tmp, "a"), a], { env });
  execFileSync("sort", ["-o", join(tmp, "b"), b], { env });
  const out = spawnSync("diff", [join(tmp, "a"), join(tmp, "b")], { env, encoding: "utf8" }).stdout.split(
    "\n",
  );
  const pick = (p: string) => sortC(out.filter((l) => l.startsWith(p)).map((l) => l.slice(2)));
  return { added: pick("> "), removed: pick("< ") };
}

function rpmVercmp(a: string, b: string): number {
  return Number(
    execFileSync("rpm", ["--eval", `%{lua: print(rpm.vercmp(${JSON.stringify(a)}, ${JSON.stringify(b)}))}`], {
      encoding: "utf8",
    }).trim(),
  );
}

describe("packages IMAGE", () => {
  it("names: the seed's list, byte for byte (sqlite and Berkeley DB)", async () => {
    for (const img of [al9, al8]) {
      const path = img.paths.qcow2 ?? img.paths["qcow2-zlib"]!;
      const r = await runCli(["packages", path]);
      expect(r).toMatchObject({ code: 0, stderr: "" });
      expect(r.stdout).toBe(expectedListFile(img));
    }
  });

  it("nevra: NAME-[EPOCH:]VERSION-RELEASE.ARCH as rpm prints it, C-sorted", async () => {
    const r = await runCli(["packages", al8.paths["qcow2-zlib"]!, "--format", "nevra"]);
    expect(r.code).toBe(0);
    // no ".ARCH" for a package without one (the imported key, gpg-pubkey)
    const oracle = sortC(
      rpmQa(al8, "%{NAME}-%|EPOCH?{%{EPOCH}:}|%{VERSION}-%{RELEASE}%|ARCH?{.%{ARCH}}|\\n"),
    );
    expect(r.stdout).toBe(oracle.map((l) => `${l}\n`).join(""));
    expect(oracle.some((l) => /-[0-9]+:/.test(l))).toBe(true); // epochs are in there
  });

  it("json: full records, every field rpm reports", async () => {
    const r = await runCli(["packages", al9.paths.raw!, "--json"]);
    expect(r.code).toBe(0);
    const list = JSON.parse(r.stdout) as Record<string, unknown>[];
    const qf =
      "%{NAME}|%{EPOCH}|%{VERSION}|%{RELEASE}|%{ARCH}|%{LICENSE}|%{SOURCERPM}|%{SIZE}|%{INSTALLTIME}|%{VENDOR}|%{SHA256HEADER}|%{SIGMD5}\\n";
    // rpm prints "(none)" for a tag the header lacks (gpg-pubkey has no ARCH, VENDOR, SIGMD5): null in ours
    const orNull = (v: string | undefined) => (v === "(none)" ? null : v);
    const oracle = rpmQa(al9, qf)
      .map((l) => l.split("|"))
      .map(
        ([name, epoch, version, release, arch, license, sourceRpm, size, installTime, vendor, sha, md5]) => ({
          name,
          epoch: epoch === "(none)" ? null : Number(epoch),
          version,
          release,
          arch: orNull(arch),
          license,
          sourceRpm,
          size: Number(size),
          installTime: Number(installTime),
          vendor: orNull(vendor),
          sha256header: sha,
          sigmd5: orNull(md5),
        }),
      );
    expect(list).toHaveLength(oracle.length);
    const byName = new Map(oracle.map((o) => [o.name, o]));
    for (const p of list) expect(p).toMatchObject(byName.get(p.name as string)!);
    const names = list.map((p) => p.name as string);
    expect(names).toEqual(sortC(names));
  });

  it("json is byte for byte what the database read whole from a copy gives (sqlite window by window, Berkeley DB)", async () => {
    for (const img of [al9, al8]) {
      // the image's database read the simple way: whole files from the host copy, no windows
      const host = hostRpmdbDir(img.rpmdbDir);
      const whole = await readRpmdb({ list: () => host.list(), read: (name) => host.read(name) });
      const expected = `${JSON.stringify(sortPackages(whole.packages), null, 2)}\n`;
      for (const [format, path] of Object.entries(img.paths)) {
        const r = await runCli(["packages", path, "--format", "json"]);
        expect(r.code, `${img.spec.el} ${format}`).toBe(0);
        expect(r.stdout, `${img.spec.el} ${format}`).toBe(expected);
      }
    }
  });

  it("bad input: exit 2 for arguments, exit 1 for an unreadable image, one line each", async () => {
    const bad = await runCli(["packages", al9.paths.raw!, "--format", "yaml"]);
    expect(bad.code).toBe(2);
    const garbage = join(tmp, "garbage.img");
    writeFileSync(garbage, Buffer.alloc(1 << 20, 0x41));
    const r = await runCli(["packages", garbage]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stdout).toBe("");
  });
});

describe("packages diff", () => {
  it.each([
    ["9.5 → 9.7", L95, L97],
    ["8.10 → 9.7 (two gpg-pubkey lines)", L8, L97],
    ["10.1 x86_64 → x86_64_v2", L10, L10V2],
  ])("name lists %s: the same as comm and diff", async (_, a, b) => {
    const r = await runCli(["packages", "diff", a, b, "--format", "json"]);
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout);
    const oracle = comm(a, b);
    expect({ added: d.added, removed: d.removed }).toEqual(oracle);
    expect({ added: d.added, removed: d.removed }).toEqual(diffTool(a, b));
    expect(d).toMatchObject({
      old: a,
      new: b,
      oldCount: readFileSync(a, "utf8").split("\n").filter(Boolean).length,
      newCount: readFileSync(b, "utf8").split("\n").filter(Boolean).length,
      versionsCompared: false,
      changed: [],
    });
  });

  it("text output lists what comm lists", async () => {
    const r = await runCli(["packages", "diff", L95, L97]);
    expect(r.code).toBe(0);
    const oracle = comm(L95, L97);
    const lines = r.stdout.split("\n");
    expect(lines.slice(0, 3)).toEqual([
      `--- ${L95}`,
      `+++ ${L97}`,
      `384 → 392 packages: ${oracle.added.length} added, ${oracle.removed.length} removed`,
    ]);
    expect(lines.filter((l) => l.startsWith("  + ")).map((l) => l.slice(4))).toEqual(oracle.added);
    expect(lines.filter((l) => l.startsWith("  - ")).map((l) => l.slice(4))).toEqual(oracle.removed);
  });

  it("JSON package lists: version changes in rpm's order, additions and removals with versions", async () => {
    const listed = await runCli(["packages", al9.paths.raw!, "--format", "json"]);
    const before = JSON.parse(listed.stdout) as {
      name: string;
      epoch: number | null;
      version: string;
      release: string;
      arch: string;
    }[];
    const after = structuredClone(before);
    const bash = after.find((p) => p.name === "bash")!;
    bash.release = "10.el9"; // from the generated release to another
    const kernel = after.find((p) => p.name === "kernel")!;
    kernel.version = `${kernel.version}~rc1`; // a tilde sorts before: a downgrade
    const removed = after.splice(
      after.findIndex((p) => p.name === "sudo"),
      1,
    )[0]!;
    after.push({ ...bash, name: "zz-new", version: "1.0", release: "1.el9" });
    after.push({ ...kernel, version: "9.9.9", release: "1.el9" }); // a second kernel: an addition
    writeFileSync(join(tmp, "before.json"), JSON.stringify(before));
    writeFileSync(join(tmp, "after.json"), JSON.stringify(after));
    const r = await runCli(["packages", "diff", join(tmp, "before.json"), join(tmp, "after.json"), "--json"]);
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout);
    const orig = (n: string) => before.find((p) => p.name === n)!;
    const evr = (p: { epoch: number | null; version: string; release: string }) =>
      `${p.epoch === null ? "" : `${p.epoch}:`}${p.version}-${p.release}`;
    const direction = (a: typeof bash, b: typeof bash) =>
      rpmVercmp(evr(a), evr(b)) < 0 ? "upgrade" : "downgrade";
    const v = (p: typeof bash) => ({ epoch: p.epoch, version: p.version, release: p.release, arch: p.arch });
    expect(d.added).toEqual(["kernel", "zz-new"]);
    expect(d.removed).toEqual(["sudo"]);
    expect(d.removedPackages).toEqual([{ name: "sudo", ...v(removed) }]);
    expect(d.versionsCompared).toBe(true);
    // the kernels: the old one is paired with the lowest new one (the ~rc1), 9.9.9 is the addition
    expect(d.changed).toEqual([
      { name: "bash", from: v(orig("bash")), to: v(bash), direction: direction(orig("bash"), bash) },
      {
        name: "kernel",
        from: v(orig("kernel")),
        to: v(kernel),
        direction: direction(orig("kernel"), kernel),
      },
    ]);
    expect(d.changed[1].direction).toBe("downgrade");
    expect(d.addedPackages.map((p: { name: string; version: string }) => `${p.name} ${p.version}`)).toEqual([
      "kernel 9.9.9",
      "zz-new 1.0",
    ]);
  });

  it("image against image: every NEVRA difference rpm sees, with rpm's direction", async () => {
    const r = await runCli(["packages", "diff", al9.paths.qcow2!, wrongArch.paths.raw!, "--json"]);
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout);
    const qf = "%{NAME}|%|EPOCH?{%{EPOCH}}:{}||%{VERSION}|%{RELEASE}|%{ARCH}\\n";
    const parse = (img: BuiltImage) =>
      new Map(
        rpmQa(img, qf).map((l) => {
          const [name, epoch, version, release, arch] = l.split("|") as [
            string,
            string,
            string,
            string,
            string,
          ];
          return [name, { epoch: epoch === "" ? null : Number(epoch), version, release, arch }];
        }),
      );
    const before = parse(al9);
    const after = parse(wrongArch);
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    const evr = (p: { epoch: number | null; version: string; release: string }) =>
      `${p.epoch === null ? "" : `${p.epoch}:`}${p.version}-${p.release}`;
    const expected = sortC([...before.keys()])
      .filter((n) => JSON.stringify(before.get(n)) !== JSON.stringify(after.get(n)))
      .map((name) => {
        const from = before.get(name)!;
        const to = after.get(name)!;
        const c = rpmVercmp(evr(from), evr(to));
        return { name, from, to, direction: c < 0 ? "upgrade" : c > 0 ? "downgrade" : "rebuild" };
      });
    expect(d).toMatchObject({ added: [], removed: [], versionsCompared: true });
    expect(d.changed).toEqual(expected);
    // the release package was built for aarch64: same version, another arch
    expect(d.changed.find((c: { name: string }) => c.name === "almalinux-release")).toMatchObject({
      from: { arch: "x86_64" },
      to: { arch: "aarch64" },
      direction: "rebuild",
    });
  });

  it("markdown for a job summary; a name list against an image compares names only", async () => {
    const r = await runCli(["packages", "diff", L97, al9.paths.qcow2!, "--format", "markdown"]);
    expect(r.code).toBe(0);
    writeFileSync(join(tmp, "al9.txt"), expectedListFile(al9));
    const names = comm(L97, join(tmp, "al9.txt"));
    const lines = r.stdout.split("\n");
    expect(lines[0]).toBe("### Package changes");
    expect(lines).toContain("_Versions not compared: a side is a bare name list._");
    expect(lines).toContain(`**Removed (${names.removed.length})**`);
    expect(lines.filter((l) => l.startsWith("- `")).length).toBe(names.added.length + names.removed.length);
  });

  it("bad sides are usage errors (exit 2, one line)", async () => {
    const missing = await runCli(["packages", "diff", join(tmp, "nope.txt"), L97]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`cloud-images: error: cannot open ${join(tmp, "nope.txt")}: no such file\n`);
    writeFileSync(join(tmp, "bad.json"), '[{"version": "1"}]');
    const bad = await runCli(["packages", "diff", join(tmp, "bad.json"), L97]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      `cloud-images: error: ${join(tmp, "bad.json")} is not a package list: [0].name is not a package name\n`,
    );
  });
});
