/** checksum: streaming SHA-256 of the image, written as NAME.sha256sum in coreutils format. */
import { stat } from "node:fs/promises";
import { basename } from "node:path";
import { sha256File, writeFileAtomic } from "../../files.js";
import { formatSha256sumLine } from "../../publish/sha256sum.js";
import type { Step } from "../context.js";
import { sidecar } from "../files.js";

export const checksum: Step = {
  name: "checksum",

  async run(ctx) {
    const image = ctx.state.imagePath!;
    const total = ctx.state.imageSize ?? 0;
    const name = basename(image);
    const before = await stat(image);
    const sha256 = await sha256File(image, (bytesDone) =>
      ctx.progress({ name, phase: "hashing", bytesDone, bytesTotal: total }),
    );
    const file = sidecar.checksum(image);
    await writeFileAtomic(file, formatSha256sumLine(sha256, name));
    ctx.state.sha256 = sha256;
    ctx.state.imageMtimeMs = before.mtimeMs;
    ctx.state.checksumPath = file;
    ctx.manifest.image = { ...ctx.manifest.image!, sha256 };
    ctx.log(`sha256 ${sha256}  ${name}`);
    return { outputs: { sha256, file, mtimeMs: before.mtimeMs } };
  },

  describe() {
    return ["sha256 of the image → IMAGE.sha256sum"];
  },
};
