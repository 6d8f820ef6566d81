/** Steps that put this project's CLI on a GitHub-hosted runner (jobs that only run the CLI). */
import { NODE_VERSION, TOOL_DIR } from "./layout.js";
import { ACTIONS, uses } from "./pins.js";

type Obj = Record<string, unknown>;

export function checkoutTool(): Obj {
  return {
    name: "Check out cloud-images",
    uses: uses(ACTIONS.checkout),
    with: { path: TOOL_DIR, "persist-credentials": false },
  };
}

/** Check out, set up Node.js, install and build: afterwards `node tool/bin/cloud-images.js` runs. */
export function installToolSteps(): Obj[] {
  return [
    checkoutTool(),
    {
      name: "Set up Node.js",
      uses: uses(ACTIONS.setupNode),
      with: { "node-version": NODE_VERSION, "package-manager-cache": false },
    },
    {
      name: "Install cloud-images",
      "working-directory": TOOL_DIR,
      run: "npm ci --ignore-scripts --no-audit --no-fund\nnpm run build\n",
    },
  ];
}

/** The CLI as installed by installToolSteps, for `run:` scripts. */
export const TOOL_CLI = `node ${TOOL_DIR}/bin/cloud-images.js`;
