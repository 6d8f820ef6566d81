/**
 * XFS images carrying extended attributes in every form. v5: formatted, loop-mounted, labelled with
 * setfattr/setfacl and read back by the kernel with getfattr. v4: this kernel no longer mounts v4, so
 * xfsprogs' own attribute code (`xfs_db -x attr_set`, which stores values of 'v' bytes) sets them.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { withLoopMount } from "../loop-images.js";
import {
  applyXattrs,
  cachedXattrImage,
  type KernelXattrs,
  kernelXattrs,
  type XattrFile,
  type XattrImage,
  xfsFiles,
} from "../xattr-fixtures.js";
import { dir, makeXfsImage, SMALL_FS_ENV, type TreeNode, xfsDbListings } from "./mkfs.js";

const MiB = 1024 * 1024;
/** This file's source: a change to a builder rebuilds the cached images. */
const SOURCE = readFileSync(fileURLToPath(import.meta.url), "utf8");

export const V5_IMAGES = {
  "v5-4k": { options: [] as string[], blockSize: 4096 },
  "v5-1k": { options: ["-b", "size=1024"], blockSize: 1024 },
} as const;

/** A v5 image labelled through the kernel; `kernel` is what getfattr read from the mount. */
export function v5XattrImage(name: keyof typeof V5_IMAGES): XattrImage {
  const { options, blockSize } = V5_IMAGES[name];
  const files = xfsFiles(blockSize);
  return cachedXattrImage(`xfs-${name}`, { options, files, SOURCE }, (img) => {
    execFileSync("truncate", ["-s", String(48 * MiB), img]);
    execFileSync("mkfs.xfs", ["-q", "-f", ...options, img], { env: SMALL_FS_ENV, stdio: "pipe" });
    return withLoopMount(img, "noatime", (mnt) => {
      applyXattrs(mnt, files);
      return kernelXattrs(mnt);
    });
  });
}

/**
 * The v4 attribute set: xfsFiles' names and value lengths, without what xfsprogs 6.1's attr_set cannot
 * store (ACLs, empty values) or crashes on (the 250-byte name).
 */
function v4Files(): XattrFile[] {
  return xfsFiles(1024)
    .filter((f) => !f.path.startsWith("acl") && f.path !== "longname")
    .map((f) => ({
      path: f.path,
      ...(f.dir ? { dir: true } : {}),
      attrs: f.attrs
        .filter(([, v]) => v.length > 0)
        .map(([n, v]) => [n, Buffer.alloc(v.length, "v")] as const),
    }));
}

const NAMESPACE_FLAG: Record<string, string> = { "user.": "-u", "trusted.": "-r", "security.": "-s" };

/** A v4 (crc=0) image with 1 KiB blocks; `kernel` is the attribute set as xfs_db stored it. */
export function v4XattrImage(): XattrImage {
  const files = v4Files();
  return cachedXattrImage("xfs-v4-1k", { files, SOURCE }, (img) => {
    const tree = new Map<string, TreeNode>();
    for (const f of files) {
      const [top, ...rest] = f.path.split("/");
      if (rest.length === 0) {
        if (!tree.has(top!)) tree.set(top!, f.dir ? dir({}) : { kind: "file", content: Buffer.from("v4\n") });
      } else {
        const parent = (tree.get(top!) ?? dir({})) as TreeNode & { kind: "dir" };
        parent.children.set(rest.join("/"), { kind: "file", content: Buffer.from("v4\n") });
        tree.set(top!, parent);
      }
    }
    const options = ["-m", "crc=0", "-i", "size=256", "-b", "size=1024"];
    copyFileSync(makeXfsImage("xattr-v4-base", options, 48 * MiB, dir(tree)).path, img);
    const dirs = ["/", ...files.filter((f) => f.dir).map((f) => `/${f.path}`)];
    const listings = xfsDbListings(img, dirs);
    const inoOf = (path: string) => {
      const slash = path.lastIndexOf("/");
      const parent = slash < 0 ? "/" : `/${path.slice(0, slash)}`;
      const ino = listings.get(parent)?.get(path.slice(slash + 1));
      if (ino === undefined) throw new Error(`xfs_db lists no ${path}`);
      return ino;
    };
    const cmds: string[] = [];
    const kernel: KernelXattrs = {};
    for (const f of files) {
      if (f.attrs.length === 0) continue;
      cmds.push("-c", `inode ${inoOf(f.path)}`);
      kernel[`/${f.path}`] ??= {};
      const answers = kernel[`/${f.path}`]!;
      for (const [name, value] of f.attrs) {
        const prefix = name.slice(0, name.indexOf(".") + 1);
        cmds.push("-c", `attr_set ${NAMESPACE_FLAG[prefix]} -v ${value.length} ${name.slice(prefix.length)}`);
        answers[name] = `0x${value.toString("hex")}`;
      }
    }
    const run = spawnSync("xfs_db", ["-x", ...cmds, img], { encoding: "utf8" });
    if (run.status !== 0 || /failed/.test(run.stdout)) {
      throw new Error(
        `xfs_db attr_set: exit ${run.status ?? run.signal}: ${run.stdout}${run.stderr}`.slice(0, 2000),
      );
    }
    return kernel;
  });
}

/** xfs_db's account of an inode's attribute fork: format, extent count, and block 0's magic. */
export function attrForkShape(
  image: string,
  ino: number,
): { format: string; extents: number; magic?: number } {
  const text = execFileSync(
    "xfs_db",
    ["-r", "-c", `inode ${ino}`, "-c", "p core.aformat core.naextents", "-c", "ablock 0", "-c", "p", image],
    { encoding: "utf8", stdio: "pipe" },
  );
  const format = /core\.aformat = \d+ \((\w+)\)/.exec(text)![1]!;
  const extents = Number(/core\.naextents = (\d+)/.exec(text)![1]);
  const magic = /magic = 0x([0-9a-f]+)/.exec(text);
  return { format, extents, ...(magic ? { magic: Number.parseInt(magic[1]!, 16) } : {}) };
}
