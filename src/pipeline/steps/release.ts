/**
 * release: the leg's folder gets its signed CHECKSUM and the image its provenance and test-result
 * bundles, and the index is updated (the same work as `cloud-images release` for a whole run). Keys
 * come from the environment; without them the CHECKSUM is unsigned and there are no bundles (warnings).
 */
import pkg from "../../../package.json" with { type: "json" };
import { CloudImagesError, StepFailedError } from "../../errors.js";
import { openStore } from "../../publish/open-store.js";
import { releaseKeysFromEnv } from "../../release/keys.js";
import { releaseLegs } from "../../release/release.js";
import type { Step } from "../context.js";
import { sidecar } from "../files.js";
import { DEFAULT_TAGS } from "./publish.js";

export const release: Step = {
  name: "release",

  async run(ctx) {
    const { options, state } = ctx;
    if (options.store === "none") return { status: "skipped", outputs: { reason: "--store none" } };
    // The manifest's record (this run's publish step, or the resumed run's with --from release).
    if (!ctx.manifest.published?.objects.some((o) => o.role === "image")) {
      return { status: "skipped", outputs: { reason: "nothing was published" } };
    }
    const keys = await releaseKeysFromEnv(ctx.env);
    for (const warning of keys.warnings) ctx.warn(warning);
    const store = await openStore(options.store, options.storeOptions);
    try {
      const result = await releaseLegs({
        manifests: [
          { path: state.imagePath ? sidecar.manifest(state.imagePath) : "manifest", manifest: ctx.manifest },
        ],
        store,
        openpgp: keys.openpgp,
        attester: keys.attester,
        tags: options.tags ?? DEFAULT_TAGS,
        generator: `cloud-images ${pkg.version}`,
        log: (line) => ctx.log(line),
        warn: (line) => ctx.warn(line),
        signal: ctx.signal,
      });
      const folder = result.folders[0]!;
      return {
        outputs: {
          checksum: folder.checksumKey,
          ...(folder.signatureKey ? { signature: folder.signatureKey, signedBy: folder.signedBy } : {}),
          bundles: result.legs.flatMap((l) => l.bundles),
          index: result.index,
        },
      };
    } catch (e) {
      if (e instanceof CloudImagesError && !(e instanceof StepFailedError)) {
        throw new StepFailedError("release", e.message, { cause: e });
      }
      throw e;
    } finally {
      await store.close();
    }
  },

  describe(ctx) {
    if (ctx.options.store === "none") return ["nothing (--store none)"];
    const prefix = ctx.state.resolved?.s3Prefix ?? "<prefix>";
    const at = `${ctx.options.store}/${prefix}`;
    return [
      `put ${at}/IMAGE.sigstore.json, ${at}/IMAGE.test-result.sigstore.json (with CLOUD_IMAGES_ATTESTATION_KEY, or keyless in GitHub Actions)`,
      `put ${at}/CHECKSUM and ${at}/CHECKSUM.asc (signed with CLOUD_IMAGES_SIGNING_KEY when set)`,
      `update ${ctx.options.store}/streams/ (simplestreams products and index, the stream document)`,
    ];
  },
};
