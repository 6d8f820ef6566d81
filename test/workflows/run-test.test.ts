// The boot test in CI: every build workflow offers `run_test` (on by default for gencloud and opennebula,
// as upstream's build-test workflows are), passes it to the shared action, and the action turns it into
// `--boot-test` or `--no-boot-test` on `cloud-images run` (evaluated with GitHub's expression engine).
import { describe, expect, it } from "vitest";
import { WORKFLOW_IDS } from "../../src/catalog/catalog.js";
import { ACTION_PATH, allSteps, committedYaml, evaluateValue, type Obj, WORKFLOW_PATHS } from "./gha.js";

describe("run_test", () => {
  it.each(WORKFLOW_IDS.map((id) => [id, id === "gencloud" || id === "opennebula"] as const))(
    "%s: dispatch input run_test defaults to %s and reaches every leg",
    (id, expected) => {
      const doc = committedYaml(WORKFLOW_PATHS[id]);
      const inputs = ((doc.on as Obj).workflow_dispatch as Obj).inputs as Record<string, Obj>;
      expect(inputs.run_test).toMatchObject({ type: "boolean", default: expected });
      const legSteps = allSteps(doc).filter((s) => String(s.uses ?? "").endsWith("shared-steps"));
      expect(legSteps.length).toBeGreaterThan(0);
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not a template
      for (const step of legSteps) expect((step.with as Obj).run_test).toBe("${{ inputs.run_test }}");
    },
  );

  it("the shared action passes --boot-test or --no-boot-test to cloud-images run", () => {
    const action = committedYaml(ACTION_PATH);
    expect((action.inputs as Record<string, Obj>).run_test).toMatchObject({ default: "true" });
    const run = allSteps(action).find((s) => s.id === "run")!;
    expect(String(run.run)).toContain('"$BOOT_TEST" --to publish');
    const env = run.env as Obj;
    const flag = (value: string) => evaluateValue(env.BOOT_TEST, { inputs: { run_test: value } });
    expect(flag("true")).toBe("--boot-test");
    expect(flag("false")).toBe("--no-boot-test");
  });
});
