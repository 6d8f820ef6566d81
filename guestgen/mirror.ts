/**
 * The Debian mirror the guest is built from, read from this machine's apt configuration (one-line
 * `/etc/apt/sources.list` entries and deb822 `*.sources` files): never a host name of our own.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { EnvironmentError } from "../src/errors.js";

export interface AptSource {
  readonly uri: string;
  readonly suite: string;
  readonly components: readonly string[];
}

/** `deb [options] URI SUITE COMPONENT...` lines; deb-src, comments and disabled lines are skipped. */
export function parseOneLineSources(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*$/, "").trim();
    const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(line);
    if (!m) continue;
    out.push({ uri: m[1]!, suite: m[2]!, components: m[3]!.split(/\s+/).filter(Boolean) });
  }
  return out;
}

/** deb822 stanzas (`Types`, `URIs`, `Suites`, `Components`, `Enabled`); one source per URI and suite. */
export function parseDeb822Sources(text: string): AptSource[] {
  const out: AptSource[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let last: string | undefined;
    for (const raw of stanza.split("\n")) {
      if (raw.startsWith("#")) continue;
      if (/^\s/.test(raw) && last) {
        fields.set(last, `${fields.get(last)} ${raw.trim()}`);
        continue;
      }
      const m = /^([A-Za-z-]+):\s*(.*)$/.exec(raw);
      if (m) {
        last = m[1]!.toLowerCase();
        fields.set(last, m[2]!.trim());
      }
    }
    if (!(fields.get("types") ?? "").split(/\s+/).includes("deb")) continue;
    if ((fields.get("enabled") ?? "yes").toLowerCase() === "no") continue;
    const words = (k: string) => (fields.get(k) ?? "").split(/\s+/).filter(Boolean);
    for (const uri of words("uris"))
      for (const suite of words("suites")) out.push({ uri, suite, components: words("components") });
  }
  return out;
}

/** Every enabled binary source in the apt configuration under `root` (default `/`). */
export function aptSources(root = "/"): AptSource[] {
  const sources: AptSource[] = [];
  const read = (p: string) => {
    try {
      return readFileSync(p, "utf8");
    } catch {
      return null;
    }
  };
  const list = read(join(root, "etc/apt/sources.list"));
  if (list) sources.push(...parseOneLineSources(list));
  const dir = join(root, "etc/apt/sources.list.d");
  let names: string[] = [];
  try {
    names = readdirSync(dir).sort();
  } catch {
    // no directory
  }
  for (const name of names) {
    const text = read(join(dir, name));
    if (text === null) continue;
    if (name.endsWith(".sources")) sources.push(...parseDeb822Sources(text));
    else if (name.endsWith(".list")) sources.push(...parseOneLineSources(text));
  }
  return sources;
}

/** The suites a Debian 12 guest needs: the release, its updates and its security updates. */
export const GUEST_SUITES = ["bookworm", "bookworm-updates", "bookworm-security"] as const;

/**
 * mmdebstrap's mirror arguments (`deb URI SUITE main`): the configured sources of the guest's suites
 * that carry `main`. The release itself must be among them.
 */
export function guestMirrorLines(sources: readonly AptSource[]): string[] {
  const wanted = sources.filter(
    (s) => (GUEST_SUITES as readonly string[]).includes(s.suite) && s.components.includes("main"),
  );
  if (!wanted.some((s) => s.suite === "bookworm")) {
    throw new EnvironmentError(
      "guestgen: no Debian 12 (bookworm) source with the main component in /etc/apt/sources.list or /etc/apt/sources.list.d/ (the test guest is built from Debian 12 packages)",
    );
  }
  const lines = wanted.map((s) => `deb ${s.uri} ${s.suite} main`);
  return [...new Set(lines)];
}
