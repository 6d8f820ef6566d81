/** The inspect layer: image → facts, checks → verdict, package lists and diffs, SBOMs. */
export {
  containsRelease,
  DEFAULT_RELEASE_PACKAGE,
  type Observations,
  type Observed,
  type ObservedPackages,
  type ObservedRoot,
  type ReleasePackageInstance,
  releaseFromString,
  runChecks,
  type VerifyExpectations,
} from "./checks.js";
export { type ImageFacts, inspectImage, type PartitionSummary } from "./facts.js";
export { type Fstab, type FstabEntry, fstabSource, parseFstab } from "./fstab.js";
export {
  FSTAB_FILE,
  type ImageMount,
  type ImageTree,
  imageVolumes,
  openImageTree,
  type Volume,
  volumesNamed,
} from "./image-tree.js";
export { type ListingEntry, listPath } from "./listing.js";
export { observeMountedTree, observeWithNbd, requireNbdEnvironment } from "./nbd.js";
export { parseOsRelease } from "./os-release.js";
export {
  diffPackageNames,
  diffPackages,
  type ListedPackage,
  type PackageDiff,
  type PackageNameDiff,
  type PackageVersion,
  type PackageVersionChange,
  parsePackageNames,
  type VersionedName,
} from "./package-diff.js";
export { type DiffLabels, formatPackageDiffMarkdown, formatPackageDiffText } from "./package-diff-format.js";
export {
  defaultPackagesFile,
  packageNamesText,
  packageNevraText,
  sortPackages,
} from "./package-list.js";
export { type LoadedPackageList, loadPackageList, type PackageListKind } from "./package-source.js";
export { type PurlContext, packagePurl } from "./purl.js";
export { type OpenedRoot, type OpenRootOptions, openImageRoot, type PartitionFacts } from "./root.js";
export {
  findImageRpmdb,
  type ImagePackages,
  type ImageRpmdb,
  imageRpmdbDir,
  RPMDB_PATHS,
  readImagePackages,
} from "./rpmdb.js";
export { compareEvr, type Evr, formatEvr, rpmvercmp } from "./rpmvercmp.js";
export {
  buildSbom,
  SBOM_FORMATS,
  type SbomFormat,
  type SbomMeta,
  sbomJson,
  sourceDateEpoch,
} from "./sbom.js";
export { type ImageSbomOptions, sbomForImage } from "./sbom-image.js";
export { packageFromPurl, packagesFromCycloneDx } from "./sbom-read.js";
export { classifyLicense, isSpdxExpression, type LicenseClass } from "./spdx-license.js";
export type { CheckResult, CheckStatus, Verdict } from "./verdict.js";
export {
  type ExtraChecks,
  expectationsForLeg,
  observeNative,
  type VerifyBackend,
  type VerifyOptions,
  verifyImage,
} from "./verify.js";
