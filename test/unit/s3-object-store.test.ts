/**
 * Issue #6 (FR-LOG-002, UC-AUDIT-EXPORT): the S3 adapter of the ObjectStore port. No S3 stand-in runs
 * locally, so these tests mock the client and assert the exact commands sent: multipart uploads with
 * bounded parts, paginated listing, chunked deletes that fail on per-key errors, presigned GETs.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { DELETE_BATCH, MULTIPART, S3ObjectStore } from '../../shared/adapters/aws/s3-object-store';
import { AppError } from '../../shared/domain/errors';

const s3 = mockClient(S3Client);
afterEach(() => s3.reset());

const BUCKET = 'cp-exports-test';
// Real client config (region, fixed credentials) so the presigner can sign; `send` is mocked.
const client = new S3Client({ region: 'eu-central-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } });
const store = new S3ObjectStore({ client, bucket: BUCKET });

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
}

/** A stream of `total` bytes in 64 KiB chunks, produced lazily. */
function bytesStream(total: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= total) return void this.push(null);
      const n = Math.min(64 * 1024, total - sent);
      sent += n;
      this.push(Buffer.alloc(n, 0x61));
    },
  });
}

describe('S3ObjectStore (issue #6)', () => {
  it('FR-LOG-002: put sends one PutObject with the content type', async () => {
    s3.on(PutObjectCommand).resolves({});
    await store.put('a/b.json', '{"x":1}', 'application/json');
    const calls = s3.commandCalls(PutObjectCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({ Bucket: BUCKET, Key: 'a/b.json', Body: '{"x":1}', ContentType: 'application/json' });
  });

  it('UC-AUDIT-EXPORT: putStream uploads a large stream in 8 MiB parts, two at a time, and counts its bytes', async () => {
    expect(MULTIPART).toEqual({ partSize: 8 * 1024 * 1024, queueSize: 2 });
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-1' });
    let inFlight = 0;
    let maxInFlight = 0;
    s3.on(UploadPartCommand).callsFake(async (input: { PartNumber?: number }) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return { ETag: `"etag-${input.PartNumber}"` };
    });
    s3.on(CompleteMultipartUploadCommand).resolves({});
    const total = 20 * 1024 * 1024 + 123;
    const out = await store.putStream('exports/x.csv', bytesStream(total), 'text/csv; charset=utf-8');
    expect(out.bytes).toBe(total);
    const create = s3.commandCalls(CreateMultipartUploadCommand);
    expect(create).toHaveLength(1);
    expect(create[0]!.args[0].input).toMatchObject({ Bucket: BUCKET, Key: 'exports/x.csv', ContentType: 'text/csv; charset=utf-8' });
    const parts = s3.commandCalls(UploadPartCommand).map((c) => c.args[0].input);
    expect(parts.map((p) => p.PartNumber).sort()).toEqual([1, 2, 3]);
    for (const p of parts) expect(p).toMatchObject({ Bucket: BUCKET, Key: 'exports/x.csv', UploadId: 'up-1' });
    expect(maxInFlight).toBeLessThanOrEqual(MULTIPART.queueSize);
    const complete = s3.commandCalls(CompleteMultipartUploadCommand);
    expect(complete).toHaveLength(1);
    expect(complete[0]!.args[0].input.MultipartUpload?.Parts?.map((p) => p.PartNumber)).toEqual([1, 2, 3]);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  it('UC-AUDIT-EXPORT: a small stream is one PutObject', async () => {
    s3.on(PutObjectCommand).resolves({});
    const out = await store.putStream('exports/small.csv', Readable.from([Buffer.from('id\r\n'), Buffer.from('1\r\n')]), 'text/csv; charset=utf-8');
    expect(out.bytes).toBe(7);
    expect(s3.commandCalls(PutObjectCommand)[0]!.args[0].input).toMatchObject({ Bucket: BUCKET, Key: 'exports/small.csv', ContentType: 'text/csv; charset=utf-8' });
    expect(s3.commandCalls(CreateMultipartUploadCommand)).toHaveLength(0);
  });

  it('UC-AUDIT-EXPORT: a source that fails mid-stream aborts the multipart upload and rejects', async () => {
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: 'up-2' });
    s3.on(UploadPartCommand).resolves({ ETag: '"e"' });
    s3.on(AbortMultipartUploadCommand).resolves({});
    s3.on(CompleteMultipartUploadCommand).resolves({});
    async function* failing(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 200; i++) yield Buffer.alloc(64 * 1024, 0x62); // 12.5 MiB: one part out
      throw new Error('source broke');
    }
    const err = await rejection(store.putStream('exports/broken.csv', Readable.from(failing()), 'text/csv'));
    expect(err).toBeInstanceOf(AppError);
    expect(s3.commandCalls(CompleteMultipartUploadCommand)).toHaveLength(0);
    expect(s3.commandCalls(AbortMultipartUploadCommand).map((c) => c.args[0].input)).toEqual([expect.objectContaining({ Bucket: BUCKET, Key: 'exports/broken.csv', UploadId: 'up-2' })]);
  });

  it('FR-LOG-002: get returns the bytes, or undefined for a missing key', async () => {
    // The SDK's streaming body, reduced to the one method the adapter calls.
    const body = { transformToByteArray: async () => new Uint8Array(Buffer.from('hello')) } as unknown as GetObjectCommandOutput['Body'];
    s3.on(GetObjectCommand, { Key: 'there' }).resolves({ Body: body });
    s3.on(GetObjectCommand, { Key: 'gone' }).rejects(new NoSuchKey({ message: 'no', $metadata: {} }));
    expect(Buffer.from((await store.get('there'))!).toString()).toBe('hello');
    expect(await store.get('gone')).toBeUndefined();
  });

  it('FR-OPS-002: list follows continuation tokens and yields keys in the order S3 gives', async () => {
    s3.on(ListObjectsV2Command, { ContinuationToken: undefined }).resolves({ Contents: [{ Key: 'p/a' }, { Key: 'p/b' }], IsTruncated: true, NextContinuationToken: 't1' });
    s3.on(ListObjectsV2Command, { ContinuationToken: 't1' }).resolves({ Contents: [{ Key: 'p/c' }], IsTruncated: false });
    const keys: string[] = [];
    for await (const k of store.list('p/')) keys.push(k);
    expect(keys).toEqual(['p/a', 'p/b', 'p/c']);
    expect(s3.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input)).toEqual([
      { Bucket: BUCKET, Prefix: 'p/' },
      { Bucket: BUCKET, Prefix: 'p/', ContinuationToken: 't1' },
    ]);
  });

  it('FR-OPS-002: deletePrefix deletes in DeleteObjects calls of at most 1,000 keys and returns the count', async () => {
    const all = Array.from({ length: 2500 }, (_, i) => `audit/tenant=t1/k${String(i).padStart(5, '0')}`);
    s3.on(ListObjectsV2Command, { ContinuationToken: undefined }).resolves({ Contents: all.slice(0, 1000).map((Key) => ({ Key })), IsTruncated: true, NextContinuationToken: 'a' });
    s3.on(ListObjectsV2Command, { ContinuationToken: 'a' }).resolves({ Contents: all.slice(1000, 2000).map((Key) => ({ Key })), IsTruncated: true, NextContinuationToken: 'b' });
    s3.on(ListObjectsV2Command, { ContinuationToken: 'b' }).resolves({ Contents: all.slice(2000).map((Key) => ({ Key })), IsTruncated: false });
    s3.on(DeleteObjectsCommand).resolves({});
    expect(await store.deletePrefix('audit/tenant=t1/')).toBe(2500);
    const deletes = s3.commandCalls(DeleteObjectsCommand).map((c) => c.args[0].input);
    expect(DELETE_BATCH).toBe(1000);
    expect(deletes.map((d) => d.Delete?.Objects?.length)).toEqual([1000, 1000, 500]);
    expect(deletes.flatMap((d) => d.Delete?.Objects?.map((o) => o.Key))).toEqual(all);
    for (const d of deletes) expect(d).toMatchObject({ Bucket: BUCKET, Delete: { Quiet: true } });
  });

  it('FR-OPS-002: per-key errors in a 200 DeleteObjects response fail the call', async () => {
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'x/1' }, { Key: 'x/2' }], IsTruncated: false });
    s3.on(DeleteObjectsCommand).resolves({ Errors: [{ Key: 'x/2', Code: 'AccessDenied', Message: 'Object Lock' }] });
    const err = await rejection(store.deletePrefix('x/'));
    expect(err).toBeInstanceOf(AppError);
    expect((err as Error).message).toMatch(/1 of 2 keys not deleted \(first: x\/2 AccessDenied\)/);
  });

  it('CON-SEC-009: SDK errors become AppErrors (throttling: 503, the rest: 500)', async () => {
    s3.on(PutObjectCommand).rejectsOnce(Object.assign(new Error('slow down'), { name: 'SlowDown' })).rejectsOnce(Object.assign(new Error('denied'), { name: 'AccessDenied' }));
    const slow = (await rejection(store.put('k', 'v', 'text/plain'))) as AppError;
    expect(slow).toBeInstanceOf(AppError);
    expect(slow.status).toBe(503);
    const denied = (await rejection(store.put('k', 'v', 'text/plain'))) as AppError;
    expect(denied.status).toBe(500);
  });

  it('UC-AUDIT-EXPORT: presignGet signs a GET for the given seconds with the download name as content-disposition', async () => {
    const url = new URL(await store.presignGet('exports/e1.csv', 300, 'audit-export-e1.csv'));
    expect(url.hostname).toBe(`${BUCKET}.s3.eu-central-1.amazonaws.com`);
    expect(url.pathname).toBe('/exports/e1.csv');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('300');
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(url.searchParams.get('response-content-disposition')).toBe(`attachment; filename="audit-export-e1.csv"; filename*=UTF-8''audit-export-e1.csv`);
    const plain = new URL(await store.presignGet('exports/e1.csv', 60));
    expect(plain.searchParams.get('X-Amz-Expires')).toBe('60');
    expect(plain.searchParams.has('response-content-disposition')).toBe(false);
    // Signing is local: nothing was sent.
    expect(s3.calls()).toHaveLength(0);
  });
});
