// Variables files as Packer itself reads them: `packer console` evaluates jsonencode() of what we wrote.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { renderPkrVars, writePkrVars } from "../../examples/demo/lib/pkrvars.js";
import { missingTools, runTool } from "./helpers.js";

const skip = missingTools(["packer"]);
const tmp = mkdtempSync(join(tmpdir(), "demo-pkrvars-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const values = {
  plain: "/boot/vmlinuz-6.1.0-56-amd64",
  quotes: 'say "hi"',
  backslashes: "C:\\path\\to\\x \\n not a newline",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: HCL template syntax, on purpose
  template: "${var.kernel} and %{ if true }",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: HCL template syntax, on purpose
  dollars: "$$ $ ${ $${x}",
  controls: "line1\nline2\tend\r\u0001",
  unicode: "é ü 日本 🚀",
  empty: "",
  count: 3,
  ratio: 1.5,
  flag: true,
};

describe.skipIf(skip)(`Packer variables files${skip ? ` (skipped: ${skip})` : ""}`, () => {
  it("round-trips every value through Packer's own parser", async () => {
    const dir = join(tmp, "roundtrip");
    const declarations = Object.entries(values)
      .map(
        ([name, v]) =>
          `variable "${name}" {\n  type = ${typeof v === "string" ? "string" : typeof v === "number" ? "number" : "bool"}\n}\n`,
      )
      .join("\n");
    rmSync(dir, { recursive: true, force: true });
    await runTool("mkdir", ["-p", dir]);
    writeFileSync(join(dir, "vars.pkr.hcl"), declarations);
    writePkrVars(join(dir, "test.auto.pkrvars.hcl"), values, "a header\nof two lines");
    const expr = `jsonencode({${Object.keys(values)
      .map((k) => `${k} = var.${k}`)
      .join(", ")}})`;
    const r = await runTool("packer", ["console", "."], {
      cwd: dir,
      input: `${expr}\n`,
      env: { CHECKPOINT_DISABLE: "1" },
    });
    expect(r.code, r.output).toBe(0);
    expect(JSON.parse(r.output.trim())).toEqual(values);
  });

  it("writes comments for the header and refuses names Packer cannot take", () => {
    expect(renderPkrVars({ a: "b" }, "one\ntwo")).toBe('# one\n# two\na = "b"\n');
    expect(() => renderPkrVars({ "bad name": "x" }, "")).toThrow(/variable name "bad name" is invalid/);
    expect(() => renderPkrVars({ n: Number.NaN }, "")).toThrow(/valid: a finite number/);
  });
});
