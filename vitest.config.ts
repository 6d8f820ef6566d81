import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/helpers/global-setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 600_000,
    pool: "forks",
    // Locks, early manifests and build logs of the runs under test stay out of the user's state directory.
    // V8 code caches of the CLI (src/cli/launch.ts) likewise stay out of the user's cache directory.
    env: {
      CLOUD_IMAGES_STATE_DIR: join(tmpdir(), "cloud-images-test-state"),
      CLOUD_IMAGES_CACHE_DIR: join(tmpdir(), "cloud-images-test-cache"),
    },
  },
});
