/** File names as stored: any bytes but NUL and '/'; decoded as UTF-8, with the raw bytes kept when that loses information. */
import { isUtf8 } from "node:buffer";
import type { DirEntry } from "./types.js";

/** A directory entry for the stored name `bytes` (a copy; `bytes` may belong to a cached block). */
export function entryFor(bytes: Buffer, ino: number): DirEntry {
  const name = bytes.toString("utf8");
  return isUtf8(bytes) ? { name, ino } : { name, ino, rawName: Buffer.from(bytes) };
}

/** The bytes a directory entry's name was stored as. */
export function nameBytes(e: Pick<DirEntry, "name" | "rawName">): Buffer {
  return e.rawName ?? Buffer.from(e.name, "utf8");
}
