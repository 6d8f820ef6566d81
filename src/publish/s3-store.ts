/**
 * `s3://BUCKET` through the AWS SDK v3. Credentials come only from the SDK's default chain (env,
 * shared profile, web identity / OIDC, container and instance roles). Large files go up as multipart
 * uploads whose parts carry their SHA-256; the file is read once, hashed as it is read, and the
 * upload is aborted (no orphaned parts) unless every part landed and the whole file is unchanged.
 */
import { createHash } from "node:crypto";
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { InterruptedError, PublishError, UsageError } from "../errors.js";
import { DEFAULT_RETRY, type RetryNotice, type RetryPolicy, withRetry } from "../retry.js";
import { describeError, nameOf, statusOf } from "./describe.js";
import { DEFAULT_CONCURRENCY, DEFAULT_PART_SIZE, MAX_PARTS, MiB } from "./limits.js";
import type { LocalFile } from "./local-file.js";
import type { ObjectStore, PutRequest, PutResult, StoredObject, Tags } from "./types.js";
import { publicUrl } from "./url.js";
import { SHA256_TAG } from "./validate.js";

export interface S3StoreOptions {
  readonly region?: string | undefined;
  /** For S3-compatible stores (MinIO, Ceph, s3rver...). */
  readonly endpointUrl?: string | undefined;
  readonly forcePathStyle?: boolean | undefined;
  readonly partSizeBytes?: number | undefined;
  readonly concurrency?: number | undefined;
  /** Base of public URLs; default `https://{bucket}.s3-accelerate.dualstack.amazonaws.com`. */
  readonly publicBaseUrl?: string | undefined;
  readonly retry?: Partial<RetryPolicy> | undefined;
  /** A request whose socket stays idle this long is abandoned (and retried). */
  readonly socketTimeoutMs?: number | undefined;
  readonly connectionTimeoutMs?: number | undefined;
  readonly onRetry?: ((notice: RetryNotice) => void) | undefined;
  /** Things done on the side worth a line (an incomplete upload left by a killed publish, aborted). */
  readonly onNotice?: ((line: string) => void) | undefined;
}

const CREDENTIALS_HELP =
  "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (a profile in ~/.aws), " +
  "or AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE (OIDC)";

export class S3Store implements ObjectStore {
  readonly kind = "s3" as const;
  readonly url: string;
  readonly partSize: number;
  readonly concurrency: number;
  private readonly client: S3Client;
  private readonly agent: HttpAgent | HttpsAgent;
  private readonly policy: RetryPolicy;
  private readonly where: string;
  private listingRefused = false;

  constructor(
    readonly bucket: string,
    private readonly options: S3StoreOptions = {},
  ) {
    this.url = `s3://${bucket}`;
    this.where = options.endpointUrl ? `${this.url} at ${options.endpointUrl}` : this.url;
    this.partSize = options.partSizeBytes ?? DEFAULT_PART_SIZE;
    this.concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    this.policy = { ...DEFAULT_RETRY, ...options.retry };
    const https = !options.endpointUrl || options.endpointUrl.startsWith("https:");
    const agentOptions = { keepAlive: true, maxSockets: this.concurrency + 4 };
    this.agent = https ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
    const region =
      options.region ??
      process.env.AWS_REGION ??
      process.env.AWS_DEFAULT_REGION ??
      (options.endpointUrl ? "us-east-1" : undefined);
    this.client = new S3Client({
      ...(region ? { region } : {}),
      ...(options.endpointUrl ? { endpoint: options.endpointUrl } : {}),
      forcePathStyle: options.forcePathStyle ?? false,
      // Our own retry loop (seeded jitter, abort on failure) is the only one.
      maxAttempts: 1,
      requestHandler: {
        ...(https ? { httpsAgent: this.agent } : { httpAgent: this.agent }),
        connectionTimeout: options.connectionTimeoutMs ?? 10_000,
        socketTimeout: options.socketTimeoutMs ?? 120_000,
      },
    });
    // The part's SHA-256 (sent as its checksum) is also the payload hash SigV4 signs: reuse it
    // instead of letting the signer hash every part a second time.
    this.client.middlewareStack.add(
      (next) => async (args) => {
        const headers = (args.request as { headers?: Record<string, string> }).headers;
        const checksum = headers?.["x-amz-checksum-sha256"];
        if (headers && checksum && !headers["x-amz-content-sha256"]) {
          headers["x-amz-content-sha256"] = Buffer.from(checksum, "base64").toString("hex");
        }
        return next(args);
      },
      { step: "build", name: "payloadHashFromChecksum" },
    );
  }

  private retry<T>(what: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return withRetry(what, fn, { policy: this.policy, onRetry: this.options.onRetry, signal });
  }

  async check(): Promise<void> {
    try {
      await this.client.config.region();
    } catch (e) {
      throw new UsageError("no AWS region: pass --region or set AWS_REGION", { cause: e });
    }
    try {
      await this.client.config.credentials();
    } catch (e) {
      throw new UsageError(`no AWS credentials found: ${CREDENTIALS_HELP}`, { cause: e });
    }
    try {
      await this.retry("checking the bucket", () =>
        this.client.send(new HeadBucketCommand({ Bucket: this.bucket })),
      );
    } catch (e) {
      const status = statusOf(e);
      if (status === 404 || nameOf(e) === "NoSuchBucket") {
        throw new UsageError(`bucket ${this.bucket} does not exist (${this.where})`, { cause: e });
      }
      if (status === 301) throw new UsageError(`bucket ${this.bucket} is in another region: pass --region`);
      // 403: upload-only credentials may not list the bucket; the uploads themselves will tell.
      if (status === 403) return;
      throw new PublishError(`cannot reach ${this.where}: ${describeError(e)}`, { cause: e });
    }
  }

  async head(key: string): Promise<StoredObject | undefined> {
    let out: {
      ContentLength?: number | undefined;
      Metadata?: Record<string, string> | undefined;
      ETag?: string | undefined;
    };
    try {
      out = await this.retry(`checking ${key}`, () =>
        this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key })),
      );
    } catch (e) {
      if (statusOf(e) === 404 || nameOf(e) === "NotFound" || nameOf(e) === "NoSuchKey") return undefined;
      throw this.failure(`checking ${key}`, e);
    }
    const size = out.ContentLength ?? 0;
    const etag = out.ETag;
    const fromMetadata = out.Metadata?.sha256;
    if (fromMetadata && /^[0-9a-f]{64}$/.test(fromMetadata)) {
      return { size, sha256: fromMetadata, sha256From: "metadata", etag };
    }
    // Tag read permission is optional: without it the object just counts as unverified (re-uploaded).
    const fromTag = (await this.getTags(key).catch(() => ({}) as Record<string, string>))[SHA256_TAG];
    return fromTag ? { size, sha256: fromTag, sha256From: "tag", etag } : { size, etag };
  }

  async put(request: PutRequest): Promise<PutResult> {
    await this.abortLeftovers(request.key, request.signal);
    return request.file.size <= this.partSize ? this.putSingle(request) : this.putMultipart(request);
  }

  /**
   * Incomplete multipart uploads of exactly this key that were started before this process: left by a
   * publish that was killed (kill -9, a lost runner) and never aborted. Their parts cost storage and
   * linger for ever; abort them. One started after this process is another publish still running and is
   * left alone (the per-key lock rules that out on this machine).
   */
  private async abortLeftovers(key: string, signal?: AbortSignal): Promise<void> {
    const leftovers: { uploadId: string; initiated?: Date | undefined }[] = [];
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    try {
      for (;;) {
        const out = await this.retry(
          `listing incomplete uploads of ${key}`,
          () =>
            this.client.send(
              new ListMultipartUploadsCommand({
                Bucket: this.bucket,
                Prefix: key,
                KeyMarker: keyMarker,
                UploadIdMarker: uploadIdMarker,
              }),
              { abortSignal: signal },
            ),
          signal,
        );
        for (const u of out.Uploads ?? []) {
          if (u.Key !== key || !u.UploadId) continue;
          if (u.Initiated && u.Initiated.getTime() >= performance.timeOrigin) continue;
          leftovers.push({ uploadId: u.UploadId, initiated: u.Initiated });
        }
        if (!out.IsTruncated) break;
        keyMarker = out.NextKeyMarker;
        uploadIdMarker = out.NextUploadIdMarker;
      }
    } catch (e) {
      if (signal?.aborted) throw interrupted(key, signal.reason);
      // A store without the call has nothing to find; without s3:ListBucketMultipartUploads, say so once.
      const status = statusOf(e);
      if (status !== 501 && status !== 405 && nameOf(e) !== "NotImplemented" && !this.listingRefused) {
        this.listingRefused = true;
        this.options.onNotice?.(
          `cannot look for incomplete uploads left by interrupted publishes: ${describeError(e)}`,
        );
      }
      return;
    }
    for (const { uploadId, initiated } of leftovers) {
      const aborted = await this.abortUpload(key, uploadId);
      const when = initiated ? ` started ${initiated.toISOString()}` : "";
      this.options.onNotice?.(
        aborted
          ? `aborted an incomplete upload of ${key}${when}, left by an interrupted publish`
          : `could not abort the incomplete upload ${uploadId} of ${key}${when}`,
      );
    }
  }

  private async putSingle(request: PutRequest): Promise<PutResult> {
    const { file, key } = request;
    const body = Buffer.allocUnsafe(file.size);
    await file.readAt(body, 0, file.size);
    await file.assertUnchanged();
    const digest = createHash("sha256").update(body).digest();
    const sha256 = digest.toString("hex");
    checkExpected(file, sha256, request.expectedSha256);
    const out = await this.retry(
      `uploading ${key}`,
      () =>
        this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: key,
            Body: body,
            ContentLength: file.size,
            ContentType: contentTypeOf(file.name),
            ChecksumSHA256: digest.toString("base64"),
            Metadata: { sha256 },
          }),
          { abortSignal: request.signal },
        ),
      request.signal,
    ).catch((e) => {
      throw request.signal?.aborted
        ? interrupted(key, request.signal.reason)
        : this.failure(`uploading ${key}`, e);
    });
    request.onBytes?.(file.size);
    return { sha256, sha256Recorded: true, etag: out.ETag };
  }

  private async putMultipart(request: PutRequest): Promise<PutResult> {
    const { file, key } = request;
    const partSize = partSizeFor(file.size, this.partSize);
    const partCount = Math.ceil(file.size / partSize);
    const created = await this.retry(
      `starting the upload of ${key}`,
      () =>
        this.client.send(
          new CreateMultipartUploadCommand({
            Bucket: this.bucket,
            Key: key,
            ContentType: contentTypeOf(file.name),
            ChecksumAlgorithm: "SHA256",
            ...(request.expectedSha256 ? { Metadata: { sha256: request.expectedSha256 } } : {}),
          }),
          { abortSignal: request.signal },
        ),
      request.signal,
    ).catch((e) => {
      throw request.signal?.aborted
        ? interrupted(key, request.signal.reason)
        : this.failure(`starting the upload of ${key}`, e);
    });
    const uploadId = created.UploadId;
    if (!uploadId) throw new PublishError(`${this.where} returned no upload id for ${key}`);

    const stop = new AbortController();
    const onOuterAbort = () => stop.abort(request.signal?.reason);
    request.signal?.addEventListener("abort", onOuterAbort, { once: true });
    try {
      const whole = createHash("sha256");
      const parts = await this.uploadParts(file, key, uploadId, partSize, partCount, whole, stop, request);
      await file.assertUnchanged();
      const sha256 = whole.digest("hex");
      checkExpected(file, sha256, request.expectedSha256);
      const etag = await this.complete(
        key,
        uploadId,
        parts,
        file.size,
        request.expectedSha256 ?? sha256,
        stop.signal,
      );
      return { sha256, sha256Recorded: request.expectedSha256 !== undefined, etag };
    } catch (e) {
      stop.abort(e);
      const aborted = await this.abortUpload(key, uploadId);
      const error = request.signal?.aborted
        ? interrupted(key, request.signal.reason)
        : e instanceof PublishError || e instanceof UsageError
          ? e
          : this.failure(`uploading ${key}`, e);
      if (!aborted) {
        throw new PublishError(
          `${error.message}; aborting multipart upload ${uploadId} also failed, its parts may remain`,
          { cause: e },
        );
      }
      throw error;
    } finally {
      request.signal?.removeEventListener("abort", onOuterAbort);
    }
  }

  /**
   * Reads parts in order (hashing each into the whole-file hash) and keeps up to `concurrency` part
   * uploads in flight, each owning one reusable buffer: memory is concurrency × partSize.
   */
  private async uploadParts(
    file: LocalFile,
    key: string,
    uploadId: string,
    partSize: number,
    partCount: number,
    whole: ReturnType<typeof createHash>,
    stop: AbortController,
    request: PutRequest,
  ): Promise<CompletedPart[]> {
    const parts: CompletedPart[] = new Array(partCount);
    const free: Buffer[] = [];
    const inFlight = new Set<Promise<void>>();
    let failure: { error: unknown } | undefined;
    for (let index = 0; index < partCount && !failure; index++) {
      while (inFlight.size >= this.concurrency) await Promise.race(inFlight);
      if (failure) break;
      const buffer = free.pop() ?? Buffer.allocUnsafeSlow(partSize);
      const offset = index * partSize;
      const length = Math.min(partSize, file.size - offset);
      const body = buffer.subarray(0, length);
      try {
        await file.readAt(body, offset, length);
      } catch (e) {
        failure = { error: e };
        break;
      }
      whole.update(body);
      const checksum = createHash("sha256").update(body).digest("base64");
      const partNumber = index + 1;
      const what = `uploading part ${partNumber} of ${partCount} of ${key}`;
      const task = this.retry(
        what,
        () =>
          this.client.send(
            new UploadPartCommand({
              Bucket: this.bucket,
              Key: key,
              UploadId: uploadId,
              PartNumber: partNumber,
              Body: body,
              ContentLength: length,
              ChecksumSHA256: checksum,
            }),
            { abortSignal: stop.signal },
          ),
        stop.signal,
      ).then(
        (out) => {
          parts[index] = { PartNumber: partNumber, ETag: out.ETag, ChecksumSHA256: checksum };
          request.onBytes?.(length);
        },
        (e) => {
          if (!failure) {
            failure = { error: this.failure(what, e) };
            stop.abort(failure.error);
          }
        },
      );
      const tracked: Promise<void> = task.finally(() => {
        inFlight.delete(tracked);
        free.push(buffer);
      });
      inFlight.add(tracked);
    }
    if (failure) stop.abort(failure.error);
    await Promise.allSettled(inFlight);
    if (failure) throw failure.error;
    return parts;
  }

  private async complete(
    key: string,
    uploadId: string,
    parts: CompletedPart[],
    size: number,
    sha256: string,
    signal: AbortSignal,
  ): Promise<string | undefined> {
    let attempts = 0;
    try {
      const out = await this.retry(
        `completing the upload of ${key}`,
        () => {
          attempts++;
          return this.client.send(
            new CompleteMultipartUploadCommand({
              Bucket: this.bucket,
              Key: key,
              UploadId: uploadId,
              MultipartUpload: { Parts: parts },
            }),
            { abortSignal: signal },
          );
        },
        signal,
      );
      return out.ETag;
    } catch (e) {
      // A retried Complete after a lost response finds the upload already gone: check what landed.
      if (attempts > 1 && nameOf(e) === "NoSuchUpload") {
        const landed = await this.head(key);
        if (landed && landed.size === size && (landed.sha256 === undefined || landed.sha256 === sha256))
          return landed.etag;
      }
      throw this.failure(`completing the upload of ${key}`, e);
    }
  }

  /** Best effort; true when the store confirmed the abort (or the upload was already gone). */
  private async abortUpload(key: string, uploadId: string): Promise<boolean> {
    try {
      await this.retry(`aborting the upload of ${key}`, () =>
        this.client.send(
          new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }),
        ),
      );
      return true;
    } catch (e) {
      return nameOf(e) === "NoSuchUpload";
    }
  }

  async getTags(key: string): Promise<Record<string, string>> {
    const out = await this.retry(`reading the tags of ${key}`, () =>
      this.client.send(new GetObjectTaggingCommand({ Bucket: this.bucket, Key: key })),
    ).catch((e) => {
      throw this.failure(`reading the tags of ${key}`, e);
    });
    const tags: Record<string, string> = {};
    for (const tag of out.TagSet ?? []) if (tag.Key !== undefined) tags[tag.Key] = tag.Value ?? "";
    return tags;
  }

  async putTags(key: string, tags: Tags): Promise<void> {
    const TagSet = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
    await this.retry(`tagging ${key}`, () =>
      this.client.send(new PutObjectTaggingCommand({ Bucket: this.bucket, Key: key, Tagging: { TagSet } })),
    ).catch((e) => {
      throw this.failure(`tagging ${key}`, e);
    });
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return await this.retry(`reading ${key}`, async () => {
        const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
        return Buffer.from(await out.Body!.transformToByteArray());
      });
    } catch (e) {
      if (statusOf(e) === 404 || nameOf(e) === "NoSuchKey" || nameOf(e) === "NotFound") return undefined;
      throw this.failure(`reading ${key}`, e);
    }
  }

  async delete(key: string): Promise<void> {
    await this.retry(`deleting ${key}`, () =>
      this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })),
    ).catch((e) => {
      throw this.failure(`deleting ${key}`, e);
    });
  }

  urlFor(key: string): string {
    return publicUrl(this.bucket, key, this.options.publicBaseUrl);
  }

  async close(): Promise<void> {
    this.client.destroy();
    this.agent.destroy();
  }

  /** A one-line PublishError for a failed request (never includes credentials). */
  private failure(what: string, e: unknown): PublishError | UsageError {
    if (e instanceof PublishError || e instanceof UsageError) return e;
    const name = nameOf(e);
    if (name === "CredentialsProviderError") {
      return new UsageError(`no AWS credentials found: ${CREDENTIALS_HELP}`, { cause: e });
    }
    if (name === "NoSuchBucket") {
      return new UsageError(`bucket ${this.bucket} does not exist (${this.where})`, { cause: e });
    }
    return new PublishError(`${what} on ${this.where} failed: ${describeError(e)}`, { cause: e });
  }
}

function interrupted(key: string, reason: unknown): PublishError {
  if (reason instanceof PublishError) return reason;
  return new PublishError(
    reason instanceof InterruptedError ? "interrupted" : `uploading ${key} was interrupted`,
  );
}

/** Grows the part size (in whole MiB) when the file would need more than 10,000 parts. */
export function partSizeFor(fileSize: number, wanted: number): number {
  if (Math.ceil(fileSize / wanted) <= MAX_PARTS) return wanted;
  return Math.ceil(fileSize / MAX_PARTS / MiB) * MiB;
}

function checkExpected(file: LocalFile, sha256: string, expected: string | undefined): void {
  if (expected && expected !== sha256) {
    throw new PublishError(
      `${file.name} does not match its .sha256sum (file ${sha256.slice(0, 12)}…, checksum file ${expected.slice(0, 12)}…): it changed after the checksum was made`,
    );
  }
}

function contentTypeOf(name: string): string {
  if (name.endsWith(".txt") || name.endsWith(".sha256sum")) return "text/plain; charset=utf-8";
  if (name.endsWith(".json")) return "application/json";
  return "application/octet-stream";
}
