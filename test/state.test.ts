/**
 * Where the tool keeps its state and its cache: its own variable, else the XDG base directory when it is
 * absolute (the XDG spec says to ignore a relative one), else the XDG default under the home directory.
 */
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { expect, it } from "vitest";
import { cacheDir, lockDir, stateDir } from "../src/state.js";

it.each([
  [
    "state",
    stateDir,
    "CLOUD_IMAGES_STATE_DIR",
    "XDG_STATE_HOME",
    join(homedir(), ".local/state/cloud-images"),
  ],
  ["cache", cacheDir, "CLOUD_IMAGES_CACHE_DIR", "XDG_CACHE_HOME", join(homedir(), ".cache/cloud-images")],
] as const)(
  "the %s directory: own variable, else absolute XDG directory, else the default",
  (_n, dir, own, xdg, home) => {
    expect(dir({ [own]: "rel/dir", [xdg]: "/xdg" })).toBe(resolve("rel/dir"));
    expect(dir({ [xdg]: "/xdg" })).toBe("/xdg/cloud-images");
    expect(dir({ [xdg]: "relative" })).toBe(home);
    expect(dir({})).toBe(home);
  },
);

it("locks live in the state directory", () => {
  expect(lockDir({ CLOUD_IMAGES_STATE_DIR: "/s" })).toBe("/s/locks");
});
