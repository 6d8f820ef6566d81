/** The policy layer: image acceptance rules as data, checks as pure functions, waivers and JUnit. */
export { BUILTIN_POLICIES, builtinDocument, policyFor } from "./builtin.js";
export type { PolicyCheck } from "./check.js";
export { CHECKS } from "./checks/index.js";
export { applicableRule, type RunPolicyOptions, runPolicy, whenMatches } from "./engine.js";
export { junitXml, xmlEscape } from "./junit.js";
export { type CatalogLeg, legPolicy, policyLeg, type RequiredPackage, requiredPackages } from "./leg.js";
export { loadPolicyFile, loadWaiversFile, PolicyFileError } from "./policy-file.js";
export { imageView, policyChecks } from "./run.js";
export { type PolicySetup, type PolicySetupOptions, setupPolicy } from "./setup.js";
export {
  CHECK_NAMES,
  type CheckName,
  type CheckRule,
  type Evaluation,
  type Finding,
  type Policy,
  type PolicyDocument,
  type PolicyLeg,
  type Waiver,
} from "./types.js";
export type { ImageView } from "./view.js";
