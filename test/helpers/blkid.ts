// blkid as an oracle: what it sees in the filesystem at a byte offset of a file.
import { execFileSync } from "node:child_process";

export function blkid(path: string, offset = 0): Record<string, string> {
  const out = execFileSync("blkid", ["-p", "-O", String(offset), "-o", "export", path], { encoding: "utf8" });
  return Object.fromEntries(
    out
      .trim()
      .split("\n")
      // export format escapes spaces and other specials with a backslash
      .map((l) => l.split("=", 2).map((v) => v.replace(/\\(.)/g, "$1")) as [string, string]),
  );
}
