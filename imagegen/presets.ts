/** Specs several suites share, so they hit the same cache entry. */
import type { ImageSpec } from "./spec.js";

/**
 * The benchmark image of issues 3 and 4: AlmaLinux 9 GenericCloud-like, 10 GiB, XFS root, the real
 * 9.7 package list (~390 packages) and 1500 MiB of host data; raw, qcow2 and zlib-compressed qcow2.
 * Building it takes minutes (compression dominates); it is cached like every image.
 */
export const BENCHMARK_IMAGE: ImageSpec = {
  arch: "x86_64",
  el: "9",
  release: "9.6",
  rootfs: "xfs",
  formats: ["raw", "qcow2", "qcow2-zlib"],
  packages: "realistic",
  fillerMiB: 1500,
};

/**
 * The --deep benchmark image (issue 11): the benchmark image with its 1500 MiB of data shipped by a
 * package, so file-integrity has ~1.5 GiB of packaged bytes to hash. Raw only.
 */
export const DEEP_BENCHMARK_IMAGE: ImageSpec = {
  ...BENCHMARK_IMAGE,
  formats: ["raw"],
  fillerOwned: true,
};
