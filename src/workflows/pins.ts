/**
 * Third-party actions the generated YAML uses, pinned to the full commit SHA of a tagged release
 * (a tag can be moved; a commit cannot). The tag is written next to the SHA as a comment.
 */

export interface PinnedAction {
  readonly repo: string;
  readonly sha: string;
  readonly tag: string;
}

function pin(repo: string, sha: string, tag: string): PinnedAction {
  return { repo, sha, tag };
}

export const ACTIONS = {
  checkout: pin("actions/checkout", "d23441a48e516b6c34aea4fa41551a30e30af803", "v6.1.0"),
  setupNode: pin("actions/setup-node", "249970729cb0ef3589644e2896645e5dc5ba9c38", "v6.5.0"),
  uploadArtifact: pin("actions/upload-artifact", "b7c566a772e6b6bfb58ed0dc250532a479d7789f", "v6.0.0"),
  downloadArtifact: pin("actions/download-artifact", "3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c", "v8.0.1"),
  attestBuildProvenance: pin(
    "actions/attest-build-provenance",
    "a2bbfa25375fe432b6a289bc6b6cd05ecd0c4c32",
    "v4.1.0",
  ),
  // Renamed from NextChapterSoftware. Upstream moved to v1.12, whose commit is not in any copy of the
  // repository readable here; this is v1.11's commit (verified) until v1.12's can be (README, CI section).
  ec2Runner: pin("unblocked/ec2-action-builder", "70344ab48a310a0d62700b708d3d608272732ff8", "v1.11"),
  runsOn: pin("runs-on/action", "d141ef83eb66d096ce8afc767e09115a65c63b60", "v2.1.2"),
} as const satisfies Record<string, PinnedAction>;

/** The `uses:` value of a pinned action. */
export function uses(action: PinnedAction): string {
  return `${action.repo}@${action.sha}`;
}

/** The release tag of a `uses:` value, when it is one of the pins above. */
export function tagOf(usesValue: string): string | undefined {
  return Object.values(ACTIONS).find((a) => uses(a) === usesValue)?.tag;
}
