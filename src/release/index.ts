/** Signed, verifiable releases: CHECKSUM + OpenPGP, in-toto/SLSA statements in Sigstore bundles, the index. */
export {
  type Attester,
  attest,
  IN_TOTO_PAYLOAD_TYPE,
  type KeyAttester,
  type KeylessAttester,
  keyHint,
  keylessAvailable,
  loadAttestationKey,
  loadAttestationPublicKey,
  oidcTokenFrom,
  PUBLIC_GOOD_FULCIO_URL,
  PUBLIC_GOOD_REKOR_URL,
  type SerializedBundle,
} from "./attest.js";
export { type AttestationTrust, type VerifiedAttestation, verifyAttestation } from "./attestation-verify.js";
export { type ChecksumEntry, formatChecksumFile, parseChecksumFile } from "./checksum-file.js";
export {
  ATTESTATION_KEY_ENV,
  ATTESTATION_MODES,
  type AttestationMode,
  type ReleaseKeys,
  releaseKeysFromEnv,
  SIGNING_KEY_ENV,
  SIGNING_PASSPHRASE_ENV,
} from "./keys.js";
export { type ManifestFile, type ReleasedLeg, type SkippedLeg, selectLegs, whyNotReleased } from "./legs.js";
export {
  type GeneratedKeyPair,
  generateSigningKey,
  loadSigningKey,
  publicKeyOf,
  readVerificationKeys,
  type SignatureCheck,
  type SigningKey,
  signDetached,
  type VerificationKeys,
  verifyDetached,
} from "./openpgp.js";
export {
  type ChangesSincePrevious,
  changesSincePrevious,
  findPreviousBuild,
  localPackages,
  type PreviousBuild,
  publishedPackages,
} from "./previous.js";
export {
  bundleNames,
  CHECKSUM_NAME,
  type ReleaseFolder,
  type ReleaseOptions,
  type ReleaseResult,
  releaseLegs,
  SIGNATURE_NAME,
} from "./release.js";
export {
  CONTENT_ID,
  INDEX_KEY,
  type IndexDocument,
  type IndexedBuild,
  indexDocument,
  mergeProducts,
  PRODUCTS_KEY,
  type Product,
  type ProductsDocument,
  parseProducts,
  productNameOf,
  streamIdOf,
  versionsNewestFirst,
} from "./simplestreams.js";
export { type FileDigest, openReleaseSource, type ReleaseSource } from "./source.js";
export {
  type InTotoStatement,
  LEG_BUILD_TYPE,
  provenanceStatement,
  SLSA_PROVENANCE_V1,
  TEST_RESULT_V0_1,
  testResultStatement,
  testResults,
} from "./statements.js";
export { type StreamDocument, streamArchOf, streamDocument, streamKeyOf } from "./stream.js";
export { renderReleaseSummary } from "./summary.js";
export { type ImageAttestation, type ReleaseVerification, verifyRelease } from "./verify-release.js";
