/**
 * The ObjectStore port on S3 (issue #6): the CSV exports and the archive buckets. Encryption, versioning,
 * Object Lock and lifecycle are the buckets' settings (lib/), not this adapter's.
 *
 * - putStream is a managed multipart upload (@aws-sdk/lib-storage): 8 MiB parts, two in flight, so an
 *   export of any size holds at most ~16 MiB of parts plus the chunk being produced; a failed upload is
 *   aborted (no orphaned parts) and nothing becomes visible.
 * - presignGet signs a GET with the function's credentials. The link dies at the earlier of its expiry and
 *   those credentials' (a Lambda role session lasts hours, far beyond the minutes asked for here).
 * - deletePrefix deletes in DeleteObjects calls of 1,000 keys (the API's limit) and fails loudly when S3
 *   reports per-key errors, which it does with a 200. On a versioned bucket it leaves delete markers; the
 *   bucket's lifecycle rules remove the noncurrent versions.
 */
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Transform, type Readable } from 'node:stream';
import { AppError, InternalError, UnavailableError } from '../../domain/errors';
import type { ObjectStore } from '../../domain/ingest-ports';
import { attachmentDisposition } from '../local/local-object-store';

export const MULTIPART = { partSize: 8 * 1024 * 1024, queueSize: 2 } as const;
/** DeleteObjects takes at most this many keys per call. */
export const DELETE_BATCH = 1000;

const THROTTLED = new Set(['SlowDown', 'ServiceUnavailable', 'InternalError', 'RequestTimeout', 'ThrottlingException', 'TooManyRequestsException']);

/** SDK errors become domain errors: handlers and jobs never see an S3 exception. */
function translate(err: unknown, what: string): AppError {
  if (err instanceof AppError) return err;
  const name = err instanceof Error ? err.name : 'unknown';
  if (THROTTLED.has(name)) return new UnavailableError(`s3 ${what}: ${name}`, err);
  return new InternalError(`s3 ${what}: ${name}`, err);
}

export class S3ObjectStore implements ObjectStore {
  constructor(readonly options: { readonly client: S3Client; readonly bucket: string }) {}

  async put(key: string, body: string | Uint8Array, contentType: string): Promise<void> {
    try {
      await this.options.client.send(new PutObjectCommand({ Bucket: this.options.bucket, Key: key, Body: body, ContentType: contentType }));
    } catch (err) {
      throw translate(err, 'PutObject');
    }
  }

  async putStream(key: string, body: Readable, contentType: string): Promise<{ readonly bytes: number }> {
    let bytes = 0;
    const counted = body.pipe(
      new Transform({
        transform(chunk: Buffer, _enc, done) {
          bytes += chunk.length;
          done(null, chunk);
        },
      }),
    );
    // pipe() does not forward errors: a failing source must fail the upload, not leave it waiting.
    body.once('error', (err) => counted.destroy(err));
    const upload = new Upload({
      client: this.options.client,
      params: { Bucket: this.options.bucket, Key: key, Body: counted, ContentType: contentType },
      partSize: MULTIPART.partSize,
      queueSize: MULTIPART.queueSize,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (err) {
      body.destroy();
      throw translate(err, 'upload');
    }
    return { bytes };
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      const out = await this.options.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: key }));
      return out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
    } catch (err) {
      if (err instanceof NoSuchKey || (err instanceof Error && err.name === 'NoSuchKey')) return undefined;
      throw translate(err, 'GetObject');
    }
  }

  /** ListObjectsV2 returns keys in UTF-8 binary order, page by page (1,000 a page). */
  async *list(prefix: string): AsyncGenerator<string, void, undefined> {
    let token: string | undefined;
    do {
      let out;
      try {
        out = await this.options.client.send(new ListObjectsV2Command({ Bucket: this.options.bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
      } catch (err) {
        throw translate(err, 'ListObjectsV2');
      }
      for (const o of out.Contents ?? []) if (o.Key !== undefined) yield o.Key;
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async deletePrefix(prefix: string): Promise<number> {
    let deleted = 0;
    let batch: string[] = [];
    const flush = async (): Promise<void> => {
      if (batch.length === 0) return;
      const keys = batch;
      batch = [];
      let out;
      try {
        out = await this.options.client.send(new DeleteObjectsCommand({ Bucket: this.options.bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }));
      } catch (err) {
        throw translate(err, 'DeleteObjects');
      }
      const errors = out.Errors ?? [];
      if (errors.length > 0) {
        const first = errors[0];
        throw new InternalError(`s3 DeleteObjects: ${errors.length} of ${keys.length} keys not deleted (first: ${first?.Key ?? '?'} ${first?.Code ?? '?'})`);
      }
      deleted += keys.length;
    };
    // Deleting behind the listing is safe: the continuation token marks a position in key order.
    for await (const key of this.list(prefix)) {
      batch.push(key);
      if (batch.length === DELETE_BATCH) await flush();
    }
    await flush();
    return deleted;
  }

  async presignGet(key: string, expiresInSeconds: number, downloadName?: string): Promise<string> {
    const command = new GetObjectCommand({
      Bucket: this.options.bucket,
      Key: key,
      ...(downloadName !== undefined ? { ResponseContentDisposition: attachmentDisposition(downloadName) } : {}),
    });
    try {
      return await getSignedUrl(this.options.client, command, { expiresIn: expiresInSeconds });
    } catch (err) {
      throw translate(err, 'presign');
    }
  }
}
