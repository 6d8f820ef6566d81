/** A real S3-compatible server (s3rver) on 127.0.0.1, random port, temp directory; and a plain client to check it. */
import { mkdtempSync, rmSync } from "node:fs";
import type { Server as HttpServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import S3rver from "s3rver";

/** s3rver's built-in account. */
export const S3RVER_KEY = "S3RVER";

export interface LocalS3 {
  readonly endpoint: string;
  readonly port: number;
  readonly bucket: string;
  /** A direct client (no proxy, no code under test) to inspect what the server holds. */
  readonly client: S3Client;
  /** Where s3rver keeps the bucket's multipart uploads in progress (one directory per upload). */
  readonly uploadsDir: string;
  close(): Promise<void>;
}

export async function startS3rver(bucket = "test-bucket"): Promise<LocalS3> {
  const dir = mkdtempSync(join(tmpdir(), "s3rver-"));
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    directory: dir,
    silent: true,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_KEY },
  });
  return {
    endpoint,
    port,
    bucket,
    client,
    uploadsDir: join(dir, bucket, "._S3rver_uploads"),
    async close() {
      client.destroy();
      // close() waits for every open connection; a keep-alive socket left by a killed or interrupted
      // client would hold the test run for ever, so drop them all once no new ones are accepted.
      const closing = server.close();
      (server as unknown as { httpServer?: HttpServer }).httpServer?.closeAllConnections();
      await closing;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The object's bytes, or undefined when there is no object under the key. */
export async function getObject(s3: LocalS3, key: string): Promise<Buffer | undefined> {
  try {
    const out = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
    return Buffer.from(await out.Body!.transformToByteArray());
  } catch (e) {
    if ((e as { name?: string }).name === "NoSuchKey") return undefined;
    throw e;
  }
}

export async function headObject(
  s3: LocalS3,
  key: string,
): Promise<{ size: number; metadata: Record<string, string> } | undefined> {
  try {
    const out = await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: key }));
    return { size: out.ContentLength ?? -1, metadata: out.Metadata ?? {} };
  } catch (e) {
    if ((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404)
      return undefined;
    throw e;
  }
}

export async function getTags(s3: LocalS3, key: string): Promise<Record<string, string>> {
  const out = await s3.client.send(new GetObjectTaggingCommand({ Bucket: s3.bucket, Key: key }));
  return Object.fromEntries((out.TagSet ?? []).map((t) => [t.Key!, t.Value ?? ""]));
}

export async function listKeys(s3: LocalS3, prefix = ""): Promise<string[]> {
  const out = await s3.client.send(new ListObjectsCommand({ Bucket: s3.bucket, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key!).sort();
}

/** Environment for a child CLI process: s3rver's credentials, no profile files, no instance metadata. */
export function s3Env(home: string): NodeJS.ProcessEnv {
  return {
    AWS_ACCESS_KEY_ID: S3RVER_KEY,
    AWS_SECRET_ACCESS_KEY: S3RVER_KEY,
    AWS_REGION: "us-east-1",
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_CONFIG_FILE: join(home, "config"),
    AWS_SHARED_CREDENTIALS_FILE: join(home, "credentials"),
    AWS_PROFILE: undefined,
    HOME: home,
  };
}
