/** locate: exactly one file must match the leg's output mask. */
import { readdir, rename, stat } from "node:fs/promises";
import { join } from "node:path";
import { StepFailedError } from "../../errors.js";
import type { Step } from "../context.js";
import { sidecar } from "../files.js";
import { expandMask } from "../glob.js";
import { exists } from "../host.js";
import { outputDirOf } from "../packer.js";

export const locate: Step = {
  name: "locate",

  async run(ctx) {
    const dir = ctx.options.templatesDir;
    const resolved = ctx.state.resolved!;
    // A resumed run starts from the recorded image; it counts only if it is found again.
    delete ctx.state.imagePath;
    const matches = await expandMask(dir, resolved.outputMask);
    if (matches.length === 0) {
      const outDir = join(dir, outputDirOf(resolved));
      const contents = (await exists(outDir))
        ? (await readdir(outDir)).join(", ") || "empty"
        : "does not exist";
      throw new StepFailedError(
        "locate",
        `no image matches ${resolved.outputMask} in ${dir} (${outputDirOf(resolved)}: ${contents})`,
      );
    }
    if (matches.length > 1) {
      throw new StepFailedError(
        "locate",
        `${matches.length} images match ${resolved.outputMask}: ${matches.join(", ")}; expected exactly one`,
      );
    }
    const image = join(dir, matches[0]!);
    const size = (await stat(image)).size;
    ctx.state.imagePath = image;
    ctx.state.imageSize = size;
    const name = matches[0]!.split("/").at(-1)!;
    ctx.manifest.image = { name, path: image, size };
    if (ctx.state.packerLog && (await exists(ctx.state.packerLog))) {
      await rename(ctx.state.packerLog, sidecar.packerLog(image));
      ctx.state.packerLog = sidecar.packerLog(image);
    }
    ctx.log(`image: ${image} (${size} bytes)`);
    return { outputs: { image, size, ...(ctx.state.packerLog ? { packerLog: ctx.state.packerLog } : {}) } };
  },

  describe(ctx) {
    return [`find exactly one ${ctx.state.resolved?.outputMask} in ${ctx.options.templatesDir}`];
  },
};
