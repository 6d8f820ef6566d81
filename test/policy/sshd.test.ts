// sshd_config read as sshd reads it: first value wins, Include in place (sorted globs, relative to
// /etc/ssh), Match blocks not global (Match all ends them), case-insensitive keywords and values.
import { describe, expect, it } from "vitest";
import { parseSshdConfig, sshdWords } from "../../src/policy/sshd-config.js";

/** A source over an in-memory tree: paths → file text; directories derived from the paths. */
function source(files: Record<string, string>) {
  return {
    file: (p: string) => files[p] ?? null,
    dir: (p: string) => {
      const prefix = p === "/" ? "/" : `${p}/`;
      const names = new Set<string>();
      for (const f of Object.keys(files))
        if (f.startsWith(prefix)) names.add(f.slice(prefix.length).split("/")[0]!);
      return names.size > 0 ? [...names] : null;
    },
  };
}

const prl = (files: Record<string, string>) => {
  const parse = parseSshdConfig(source(files), ["PermitRootLogin"]);
  const v = parse.values.get("permitrootlogin");
  return v ? `${v.value}@${v.file}:${v.line}` : "unset";
};

describe("sshd_config words", () => {
  it("splits keyword and arguments as sshd does", () => {
    expect(sshdWords("PermitRootLogin yes")).toEqual(["PermitRootLogin", "yes"]);
    expect(sshdWords("  PermitRootLogin=no")).toEqual(["PermitRootLogin", "no"]);
    expect(sshdWords("PermitRootLogin = no  ")).toEqual(["PermitRootLogin", "no"]);
    expect(sshdWords('Include "/etc/ssh/a b.conf" x.conf # comment')).toEqual([
      "Include",
      "/etc/ssh/a b.conf",
      "x.conf",
    ]);
    expect(sshdWords("# PermitRootLogin yes")).toEqual([]);
    expect(sshdWords("   ")).toEqual([]);
  });
});

describe("PermitRootLogin, effective global value", () => {
  it("takes the first value, not the last", () => {
    expect(prl({ "/etc/ssh/sshd_config": "PermitRootLogin no\nPermitRootLogin yes\n" })).toBe(
      "no@/etc/ssh/sshd_config:1",
    );
  });

  it("reads an Include in place: a drop-in read first wins over the main file (issue #212)", () => {
    const files = {
      "/etc/ssh/sshd_config": "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\n",
      "/etc/ssh/sshd_config.d/01-permitrootlogin.conf": "PermitRootLogin yes\n",
      "/etc/ssh/sshd_config.d/50-redhat.conf": "PermitRootLogin prohibit-password\n",
    };
    expect(prl(files)).toBe("yes@/etc/ssh/sshd_config.d/01-permitrootlogin.conf:1");
  });

  it("an Include after the setting does not override it", () => {
    const files = {
      "/etc/ssh/sshd_config": "PermitRootLogin no\nInclude sshd_config.d/*.conf\n",
      "/etc/ssh/sshd_config.d/01-permitrootlogin.conf": "PermitRootLogin yes\n",
    };
    expect(prl(files)).toBe("no@/etc/ssh/sshd_config:1");
  });

  it("expands globs sorted by name, relative paths under /etc/ssh, and skips dot files", () => {
    const files = {
      "/etc/ssh/sshd_config": "Include conf.d/*\n",
      "/etc/ssh/conf.d/20-b.conf": "PermitRootLogin no\n",
      "/etc/ssh/conf.d/10-a.conf": "PermitRootLogin yes\n",
      "/etc/ssh/conf.d/.00-hidden.conf": "PermitRootLogin forced-commands-only\n",
    };
    expect(prl(files)).toBe("yes@/etc/ssh/conf.d/10-a.conf:1");
  });

  it("a Match block does not set the global value; Match all ends it", () => {
    expect(prl({ "/etc/ssh/sshd_config": "Match User root\n  PermitRootLogin yes\n" })).toBe("unset");
    expect(
      prl({
        "/etc/ssh/sshd_config":
          "Match Address 10.0.0.0/8\n PermitRootLogin no\nMatch all\nPermitRootLogin yes\n",
      }),
    ).toBe("yes@/etc/ssh/sshd_config:4");
  });

  it("an Include inside a Match block is conditional, even a Match all inside it", () => {
    const files = {
      "/etc/ssh/sshd_config": "Match User alice\n  Include /etc/ssh/in.conf\nMatch all\nPermitRootLogin no\n",
      "/etc/ssh/in.conf": "PermitRootLogin yes\nMatch all\nPermitRootLogin yes\n",
    };
    expect(prl(files)).toBe("no@/etc/ssh/sshd_config:4");
  });

  it("a Match inside an included file ends with that file", () => {
    const files = {
      "/etc/ssh/sshd_config": "Include /etc/ssh/a.conf\nPermitRootLogin yes\n",
      "/etc/ssh/a.conf": "Match User bob\nPermitRootLogin no\n",
    };
    expect(prl(files)).toBe("yes@/etc/ssh/sshd_config:2");
  });

  it("keywords are case-insensitive", () => {
    expect(prl({ "/etc/ssh/sshd_config": "PERMITROOTLOGIN Yes\npermitrootlogin no\n" })).toBe(
      "Yes@/etc/ssh/sshd_config:1",
    );
  });

  it("a missing include and a pattern matching nothing are skipped, like sshd", () => {
    const files = {
      "/etc/ssh/sshd_config": "Include /etc/ssh/none.conf /etc/ssh/d/*.conf\nPermitRootLogin no\n",
    };
    const parse = parseSshdConfig(source(files), ["PermitRootLogin"]);
    expect(parse.errors).toEqual([]);
    expect(parse.values.get("permitrootlogin")?.value).toBe("no");
  });

  it("stops at 16 levels of includes", () => {
    const parse = parseSshdConfig(source({ "/etc/ssh/sshd_config": "Include /etc/ssh/sshd_config\n" }), [
      "x",
    ]);
    expect(parse.errors.join()).toMatch(/too many recursive configuration includes/);
  });

  it("reports what it has not been given yet, so the caller can load it", () => {
    const parse = parseSshdConfig(
      {
        file: (p) => (p === "/etc/ssh/sshd_config" ? "Include d/*.conf x.conf\n" : undefined),
        dir: () => undefined,
      },
      ["PermitRootLogin"],
    );
    expect(parse.missing).toEqual({ files: ["/etc/ssh/x.conf"], dirs: ["/etc/ssh/d"] });
  });
});
