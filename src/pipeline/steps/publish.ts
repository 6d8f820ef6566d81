/** publish: image, .sha256sum, .txt (and SBOM) under the leg's S3 prefix, through the object store. */
import { basename } from "node:path";
import { CloudImagesError, StepFailedError } from "../../errors.js";
import { openStore } from "../../publish/open-store.js";
import type { PublishFile } from "../../publish/publish.js";
import { publishFiles } from "../../publish/publish.js";
import type { PublishedObject } from "../../publish/published-object.js";
import type { ObjectRole, PublishObjectResult } from "../../publish/types.js";
import type { LegContext, Step } from "../context.js";

export const DEFAULT_TAGS = { public: "yes" } as const;

function filesOf(ctx: LegContext): PublishFile[] {
  const s = ctx.state;
  const files: [string | undefined, ObjectRole][] = [
    [s.imagePath, "image"],
    [s.checksumPath, "checksum"],
    [s.packagesPath, "packages"],
    [s.sbomPath, "sbom"],
  ];
  return files.filter(([path]) => path !== undefined).map(([path, role]) => ({ path: path!, role }));
}

/** What the manifest records of a publish: the objects that are in the store (uploaded or already there). */
export function recorded(objects: readonly PublishObjectResult[]): PublishedObject[] {
  return objects
    .filter((o) => o.status === "uploaded" || o.status === "skipped")
    .map((o) => ({
      role: o.role,
      name: o.name,
      key: o.key,
      size: o.size,
      sha256: o.sha256,
      ...(o.url ? { url: o.url } : {}),
      ...(o.status === "skipped" ? { skipped: true } : {}),
    }));
}

export const publish: Step = {
  name: "publish",

  async run(ctx) {
    const { options, state } = ctx;
    if (options.store === "none") {
      state.published = { store: "none", kind: "none", objects: [] };
      ctx.manifest.published = state.published;
      return { status: "skipped", outputs: { reason: "--store none" } };
    }
    if (state.verdict && !state.verdict.passed) {
      return {
        status: "skipped",
        outputs: { reason: "verification failed: an image that failed its checks is not published" },
      };
    }
    if (ctx.manifest.tests.boot === "failed") {
      return {
        status: "skipped",
        outputs: { reason: "boot test failed: an image that failed its boot test is not published" },
      };
    }
    const store = await openStore(options.store, { ...options.storeOptions, onNotice: ctx.warn });
    try {
      const prefix = state.resolved!.s3Prefix;
      const imageName = basename(state.imagePath!);
      const result = await publishFiles(store, filesOf(ctx), {
        prefix,
        tags: options.tags ?? DEFAULT_TAGS,
        signal: ctx.signal,
        onNotice: ctx.warn,
        hashedFiles:
          state.sha256 && state.imageMtimeMs !== undefined
            ? { [imageName]: { sha256: state.sha256, size: state.imageSize!, mtimeMs: state.imageMtimeMs } }
            : undefined,
        onProgress: (p) => {
          if (p.phase === "done")
            ctx.log(`${p.status === "skipped" ? "skipped (identical object exists)" : p.status}: ${p.key}`);
          else ctx.progress(p);
        },
      });
      state.published = { store: result.store, kind: result.kind, objects: recorded(result.objects) };
      ctx.manifest.published = state.published;
      return { outputs: { store: result.store, prefix, objects: state.published.objects.map((o) => o.key) } };
    } catch (e) {
      // The message names exactly what reached the store; the manifest records no published set for a
      // failed step (the runner clears it), so no summary links a failed publish.
      if (e instanceof CloudImagesError && !(e instanceof StepFailedError)) {
        throw new StepFailedError("publish", e.message, { cause: e });
      }
      throw e;
    } finally {
      await store.close();
    }
  },

  describe(ctx) {
    const prefix = ctx.state.resolved?.s3Prefix ?? "<prefix>";
    if (ctx.options.store === "none") return ["nothing (--store none)"];
    const names = [
      "IMAGE",
      "IMAGE.sha256sum",
      "IMAGE.txt",
      ...(ctx.options.sbom === false ? [] : ["IMAGE.cdx.json"]),
    ];
    const tags = Object.entries(ctx.options.tags ?? DEFAULT_TAGS)
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
    return names.map((n) => `put ${ctx.options.store}/${prefix}/${n} (tags ${tags})`);
  },
};
