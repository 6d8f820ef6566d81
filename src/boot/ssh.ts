/**
 * SSH into the guest through the forwarded loopback port with a throwaway ed25519 key: batch mode, no host
 * key checks (each boot has new host keys), no user configuration. Every failure is classified, because
 * "the port is not forwarded yet", "nothing listens on 22" and "sshd rejects the key" mean different things.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { EnvironmentError } from "../errors.js";
import { runChild } from "../process/children.js";

export interface SshTarget {
  readonly ssh: string;
  readonly port: number;
  readonly user: string;
  /** The private key file. */
  readonly key: string;
}

/** The arguments before the remote command. */
export function sshArgs(target: SshTarget, connectTimeoutSeconds = 10): string[] {
  return [
    ...["-F", "/dev/null"],
    ...["-p", String(target.port), "-i", target.key],
    ...["-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "PasswordAuthentication=no"],
    ...["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"],
    ...["-o", `ConnectTimeout=${connectTimeoutSeconds}`, "-o", "ServerAliveInterval=15"],
    `${target.user}@127.0.0.1`,
  ];
}

/**
 * refused: nothing listens on the host port (QEMU not up); closed: QEMU accepted but the guest's port 22
 * did not answer (sshd not running yet, or not at all); rejected: sshd answered and refused the key;
 * timeout: no answer in time; other: anything else (ssh's last message).
 */
export type SshFailure = "refused" | "closed" | "rejected" | "timeout" | "other";

export function classifySshFailure(stderr: string): SshFailure {
  if (/Permission denied|Too many authentication failures|no more authentication methods/i.test(stderr))
    return "rejected";
  if (/Connection refused/i.test(stderr)) return "refused";
  if (/timed out|Operation timed out/i.test(stderr)) return "timeout";
  if (
    /Connection (reset|closed)|kex_exchange_identification|Broken pipe|Connection to \S+ closed/i.test(stderr)
  )
    return "closed";
  return "other";
}

export type SshAttempt =
  | { readonly ok: true }
  | { readonly ok: false; readonly failure: SshFailure; readonly message: string };

function lastLine(text: string): string {
  return (
    text
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean)
      .pop() ?? ""
  );
}

/** One login attempt that runs `true`. */
export async function trySsh(
  target: SshTarget,
  timeoutMs = 30_000,
  signal?: AbortSignal,
): Promise<SshAttempt> {
  const r = await runChild(target.ssh, [...sshArgs(target), "true"], {
    timeoutMs,
    signal,
    killGraceMs: 1000,
  });
  if (r.exitCode === 0) return { ok: true };
  if (r.timedOut) return { ok: false, failure: "timeout", message: "ssh did not finish in time" };
  const message = lastLine(r.stderr) || `ssh exited with ${r.signal ?? r.exitCode}`;
  return { ok: false, failure: classifySshFailure(r.stderr), message };
}

export interface RemoteResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

/** Runs a shell script in the guest (`sh -s`, the script on stdin). */
export async function runRemoteScript(
  target: SshTarget,
  script: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<RemoteResult> {
  const r = await runChild(target.ssh, [...sshArgs(target), "sh", "-s"], {
    timeoutMs,
    input: script,
    signal,
    killGraceMs: 1000,
  });
  return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr, timedOut: r.timedOut };
}

/** Makes a passphrase-less ed25519 key pair in `dir`; returns the private key path and the public key. */
export async function makeKeyPair(
  sshKeygen: string,
  dir: string,
): Promise<{ readonly key: string; readonly publicKey: string }> {
  const key = join(dir, "id_ed25519");
  const r = await runChild(
    sshKeygen,
    ["-q", "-t", "ed25519", "-N", "", "-C", "cloud-images-boot-test", "-f", key],
    {
      timeoutMs: 30_000,
    },
  );
  if (r.exitCode !== 0)
    throw new EnvironmentError(`ssh-keygen failed: ${lastLine(r.stderr) || `exit ${r.exitCode}`}`);
  return { key, publicKey: (await readFile(`${key}.pub`, "utf8")).trim() };
}
