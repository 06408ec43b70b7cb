/**
 * Issue #6: local mode's ObjectStore (files under the data dir) and its presigned-link pages. What the
 * S3 adapter gets from S3 — atomic objects, lexical listing, prefix deletes, signed expiring links — the
 * local one must give too (UC-AUDIT-EXPORT's download, FR-OPS-002's purge of archive partitions).
 */
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachmentDisposition, LocalObjectStore, localObjectPages } from '../../shared/adapters/local/local-object-store';

let dataDir: string;
let server: Server;
let baseUrl: string;
let store: LocalObjectStore;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'cp-objects-'));
  const pages = localObjectPages(dataDir);
  server = createServer((req, res) => {
    void pages(req, res).then((handled) => {
      if (!handled) {
        res.writeHead(418);
        res.end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  baseUrl = `http://localhost:${typeof addr === 'object' && addr ? addr.port : 0}`;
  store = new LocalObjectStore({ dataDir, bucket: 'exports', baseUrl });
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

async function keys(s: LocalObjectStore, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const k of s.list(prefix)) out.push(k);
  return out;
}

describe('LocalObjectStore (issue #6)', () => {
  it('FR-LOG-002: put, putStream and get; objects live at <dataDir>/objects/<bucket>/<key>', async () => {
    await store.put('a/one.txt', 'hello', 'text/plain');
    expect(Buffer.from((await store.get('a/one.txt'))!).toString()).toBe('hello');
    const out = await store.putStream('a/two.csv', Readable.from([Buffer.from('x,y\r\n'), Buffer.from('1,2\r\n')]), 'text/csv');
    expect(out.bytes).toBe(10);
    expect(statSync(join(dataDir, 'objects', 'exports', 'a', 'two.csv')).size).toBe(10);
    expect(await store.get('a/missing')).toBeUndefined();
  });

  it('CON-SEC-009: keys with "..", absolute paths, backslashes or empty segments are refused', async () => {
    for (const bad of ['../x', 'a/../../x', '/etc/passwd', 'a\\b', 'a//b', 'a/', '', './a', 'a/./b', 'nul\0']) {
      await expect(store.put(bad, 'x', 'text/plain'), bad).rejects.toThrow(/invalid object key/);
    }
    expect(() => new LocalObjectStore({ dataDir, bucket: '../x', baseUrl })).toThrow(/invalid bucket/);
  });

  it('FR-LOG-002: a failed stream leaves no object and no temporary file behind', async () => {
    async function* broken(): AsyncGenerator<Buffer> {
      yield Buffer.from('partial');
      throw new Error('source broke');
    }
    await expect(store.putStream('a/broken.csv', Readable.from(broken()), 'text/csv')).rejects.toThrow('source broke');
    expect(await store.get('a/broken.csv')).toBeUndefined();
    expect(readdirSync(join(dataDir, 'objects', '.tmp'))).toEqual([]);
  });

  it('FR-OPS-002: list walks recursively in lexical (byte) order, prefixes may end mid-name', async () => {
    const s = new LocalObjectStore({ dataDir, bucket: 'listing', baseUrl });
    const all = ['a-b', 'a/x', 'a/y/z', 'a0', 'b/é', 'b/z', 'ab/c'];
    for (const k of [...all].reverse()) await s.put(k, k, 'text/plain');
    expect(await keys(s, '')).toEqual([...all].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
    expect(await keys(s, '')).toEqual(['a-b', 'a/x', 'a/y/z', 'a0', 'ab/c', 'b/z', 'b/é']);
    expect(await keys(s, 'a/')).toEqual(['a/x', 'a/y/z']);
    expect(await keys(s, 'a')).toEqual(['a-b', 'a/x', 'a/y/z', 'a0', 'ab/c']);
    expect(await keys(s, 'a/y')).toEqual(['a/y/z']);
    expect(await keys(s, 'nothing/')).toEqual([]);
  });

  it('FR-OPS-002: deletePrefix deletes what list shows and returns the count', async () => {
    const s = new LocalObjectStore({ dataDir, bucket: 'purge', baseUrl });
    for (let i = 0; i < 30; i++) await s.put(`audit/tenant=t1/date=2026-01-${String((i % 3) + 1).padStart(2, '0')}/${i}.json`, '{}', 'application/json');
    await s.put('audit/tenant=t2/date=2026-01-01/0.json', '{}', 'application/json');
    expect(await s.deletePrefix('audit/tenant=t1/')).toBe(30);
    expect(await keys(s, '')).toEqual(['audit/tenant=t2/date=2026-01-01/0.json']);
    expect(readdirSync(join(dataDir, 'objects', 'purge', 'audit'))).toEqual(['tenant=t2']);
    expect(await s.deletePrefix('audit/tenant=t1/')).toBe(0);
  });
});

describe('presigned links on the local server (UC-AUDIT-EXPORT)', () => {
  it('UC-AUDIT-EXPORT: a signed link downloads the object with its type and an attachment name', async () => {
    await store.put('exports/r1.csv', 'id\r\n1\r\n', 'text/csv; charset=utf-8');
    const url = await store.presignGet('exports/r1.csv', 300, 'audit-export-r1.csv');
    expect(url.startsWith(`${baseUrl}/_local/objects/exports/exports/r1.csv?expires=`)).toBe(true);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="audit-export-r1.csv"; filename*=UTF-8''audit-export-r1.csv`);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.text()).toBe('id\r\n1\r\n');
    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('7');
    expect((await fetch(url, { method: 'POST' })).status).toBe(405);
  });

  it('CON-SEC-009: a tampered, re-aimed or expired link is a 403; a missing object behind a good link is a 404', async () => {
    await store.put('exports/r2.csv', 'secret rows', 'text/csv');
    await store.put('exports/other.csv', 'other rows', 'text/csv');
    const good = new URL(await store.presignGet('exports/r2.csv', 300, 'r2.csv'));
    const variants: [string, (u: URL) => void][] = [
      [
        'signature changed',
        (u) => {
          const sig = u.searchParams.get('signature')!;
          u.searchParams.set('signature', `${sig[0] === 'A' ? 'B' : 'A'}${sig.slice(1)}`);
        },
      ],
      ['signature removed', (u) => u.searchParams.delete('signature')],
      ['expiry extended', (u) => u.searchParams.set('expires', String(Number(u.searchParams.get('expires')) + 3600))],
      ['other key', (u) => (u.pathname = u.pathname.replace('r2.csv', 'other.csv'))],
      ['other bucket', (u) => (u.pathname = u.pathname.replace('/_local/objects/exports/', '/_local/objects/listing/'))],
      ['download name changed', (u) => u.searchParams.set('filename', 'evil.html')],
      ['traversal', (u) => (u.pathname = '/_local/objects/exports/..%2F..%2Fobjects.key')],
    ];
    for (const [what, change] of variants) {
      const u = new URL(good);
      change(u);
      const res = await fetch(u);
      expect(res.status, what).toBe(403);
      expect(await res.text(), what).not.toContain('secret rows');
    }
    // Valid signature, but in the past.
    const expired = new URL(await store.presignGet('exports/r2.csv', 1, 'r2.csv'));
    await new Promise((r) => setTimeout(r, 2100));
    expect((await fetch(expired)).status).toBe(403);
    const missing = await store.presignGet('exports/never.csv', 300);
    expect((await fetch(missing)).status).toBe(404);
  });

  it('CON-SEC-009: the signing key is 32 random bytes in <dataDir>/objects.key, mode 0600', async () => {
    const st = statSync(join(dataDir, 'objects.key'));
    expect(st.size).toBe(32);
    expect(st.mode & 0o777).toBe(0o600);
  });

  it('UC-AUDIT-EXPORT: download names outside ASCII keep an ASCII fallback and the exact UTF-8 name', () => {
    expect(attachmentDisposition('Prüfung "2026".csv')).toBe(`attachment; filename="Pr_fung _2026_.csv"; filename*=UTF-8''Pr%C3%BCfung%20%222026%22.csv`);
  });
});
