/**
 * `cpctl audit verify` (issue #6, ADR-0008): fetches the signed digests and, for each, the ledger's batches
 * and the records as stored now, then runs the chain verification here, on the auditor's machine. The
 * server supplies bytes, never a verdict: every signature, batch hash and record hash is recomputed
 * locally (shared/domain/audit-digest.ts), and the public key can be pinned by its fingerprint.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { RETENTION } from '../config/constants';
import {
  keyFingerprint,
  parseDigestDocument,
  recordKey,
  verifyChain,
  viewOfStored,
  type Finding,
  type LedgerBatchView,
  type StoredRecordView,
  type VerifyChainResult,
} from '../domain/audit-digest';
import type { AuditBatchEntry } from '../domain/ingest-ports';
import type { ApiClient } from './api-client';

const digestsPage = z.object({
  keyId: z.string(),
  publicKey: z.string(),
  items: z.array(z.object({ seq: z.int(), document: z.string(), signature: z.string() })),
  nextSeq: z.int().nullable(),
});

const recordsPage = z.object({
  items: z.array(
    z.object({
      index: z.int().min(0),
      batchId: z.string(),
      found: z.boolean(),
      offset: z.int().min(0),
      total: z.int().min(0),
      entries: z.array(z.object({ pk: z.string(), sk: z.string(), id: z.string(), hash: z.string(), stored: z.record(z.string(), z.unknown()).nullable() })),
    }),
  ),
  nextCursor: z.string().nullable(),
});

export interface VerifyOptions {
  /** Check the records of digests from this seq on (the one before anchors the chain). Default 1. */
  readonly fromSeq?: number;
  /** Expected sha256 (hex) of the signing key's SPKI; verification refuses another key. */
  readonly keySha256?: string;
  /**
   * Public keys of earlier digest signing keys, supplied out of band (KMS GetPublicKey of the old key):
   * the API serves only the current one, and a KMS asymmetric key is replaced, not rotated (ADR-0008).
   */
  readonly previousKeys?: readonly PreviousDigestKey[];
  readonly now?: Date;
}

export interface PreviousDigestKey {
  /** The key id the digests name (a KMS key ARN in AWS, `local:<thumbprint>` locally). */
  readonly keyId: string;
  /** DER SubjectPublicKeyInfo. */
  readonly spki: Uint8Array;
}

/**
 * An earlier key as `cpctl audit verify --previous-key <keyId>=<file>` reads it: the file holds the SPKI
 * as PEM or as the base64 DER that `aws kms get-public-key --query PublicKey --output text` prints. Only
 * P-256 keys are accepted, the only kind that signs digests.
 */
export function parsePreviousDigestKey(keyId: string, text: string): PreviousDigestKey {
  if (keyId.trim() === '') throw new Error('--previous-key needs <keyId>=<file>');
  let key: KeyObject;
  try {
    key = text.includes('-----BEGIN') ? createPublicKey(text) : createPublicKey({ key: Buffer.from(text.trim(), 'base64'), format: 'der', type: 'spki' });
  } catch {
    throw new Error(`the previous key for ${keyId} is not a public key (PEM, or base64 DER SubjectPublicKeyInfo)`);
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error(`the previous key for ${keyId} is not a P-256 key`);
  }
  return { keyId, spki: new Uint8Array(key.export({ type: 'spki', format: 'der' })) };
}

export interface VerifyReport extends VerifyChainResult {
  readonly fromSeq: number;
  readonly keyId: string;
  readonly keySha256: string;
  /** The earlier keys supplied, with their fingerprints, so the report says what vouched for old digests. */
  readonly previousKeys: readonly { keyId: string; keySha256: string }[];
}

async function get<T>(client: ApiClient, schema: z.ZodType<T>, path: string): Promise<T> {
  const parsed = schema.safeParse(await client.request<unknown>('GET', path));
  if (!parsed.success) throw new Error(`unexpected response from ${path.split('?')[0]}: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`);
  return parsed.data;
}

export async function verifyAuditTrail(client: ApiClient, o: VerifyOptions = {}): Promise<VerifyReport> {
  const fromSeq = o.fromSeq ?? 1;
  // The digest before the first checked one anchors the chain: its successor must name its hash.
  let next: number | null = Math.max(1, fromSeq - 1);
  const digests: { seq: number; document: string; signature: string }[] = [];
  let key: { keyId: string; spki: Uint8Array } | undefined;
  while (next !== null) {
    const page: z.infer<typeof digestsPage> = await get(client, digestsPage, `/v1/audit/digests?fromSeq=${next}&limit=500`);
    key ??= { keyId: page.keyId, spki: new Uint8Array(Buffer.from(page.publicKey, 'base64')) };
    digests.push(...page.items);
    next = page.items.length > 0 ? page.nextSeq : null;
  }
  if (!key) throw new Error('the server sent no digest signing key');
  const keySha256 = keyFingerprint(key.spki);
  if (o.keySha256 !== undefined && o.keySha256.toLowerCase() !== keySha256) {
    throw new Error(`the server's digest signing key has sha256 ${keySha256}, not the expected ${o.keySha256}: refusing to verify with it`);
  }

  const batches = new Map<string, LedgerBatchView>();
  const stored = new Map<string, StoredRecordView | null>();
  for (const d of digests) {
    if (d.seq < fromSeq) continue;
    // Only digests that parse name batches; a broken one is reported by verifyChain without its records.
    const doc = parseDigestDocument(d.document);
    if (!doc || doc.batches.length === 0) continue;
    const found = new Map<number, AuditBatchEntry[]>();
    let cursor: string | null = '';
    while (cursor !== null) {
      const path = `/v1/audit/digests/${d.seq}/records${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page: z.infer<typeof recordsPage> = await get(client, recordsPage, path);
      for (const b of page.items) {
        if (!b.found) continue;
        const entries = found.get(b.index) ?? [];
        if (b.offset !== entries.length) throw new Error(`digest ${d.seq}: batch ${b.batchId} came back out of order (offset ${b.offset}, have ${entries.length})`);
        for (const e of b.entries) {
          entries.push({ pk: e.pk, sk: e.sk, id: e.id, hash: e.hash });
          const k = recordKey(e.pk, e.sk);
          // The hash is computed here from the bytes as stored; the server's idea of the record's hash is never asked.
          if (!stored.has(k)) stored.set(k, e.stored === null ? null : viewOfStored(e.stored));
        }
        found.set(b.index, entries);
      }
      cursor = page.nextCursor;
    }
    for (const [index, entries] of found) batches.set(`${d.seq}/${index}`, { entries });
  }

  const signingKey = key;
  const earlier = new Map((o.previousKeys ?? []).map((k) => [k.keyId, k.spki]));
  const result = verifyChain({
    digests,
    // The served key wins for its own id: a supplied key cannot stand in for the current one.
    publicKeyOf: (keyId) => (keyId === signingKey.keyId ? signingKey.spki : earlier.get(keyId)),
    batchOf: (seq, index) => batches.get(`${seq}/${index}`),
    storedAt: (pk, sk) => stored.get(recordKey(pk, sk)) ?? null,
    checkRecordsFromSeq: fromSeq,
    now: o.now ?? new Date(),
    retentionDays: RETENTION.auditDays,
  });
  const previousKeys = [...earlier].filter(([id]) => id !== signingKey.keyId).map(([id, spki]) => ({ keyId: id, keySha256: keyFingerprint(spki) }));
  return { ...result, fromSeq, keyId: signingKey.keyId, keySha256, previousKeys };
}

function findingLine(f: Finding): string {
  const where = f.pk !== undefined ? `${f.pk} ${f.sk ?? ''}  record ${f.id ?? '?'}` : f.batchId !== undefined ? `batch ${f.batchId}` : `digest ${f.seq ?? '-'}`;
  const seq = f.seq !== undefined && f.pk !== undefined ? ` (digest ${f.seq})` : '';
  return `  ${f.kind.padEnd(24)} ${where}${seq}\n  ${''.padEnd(24)} ${f.detail}`;
}

export function formatVerifyReport(r: VerifyReport): string {
  const tampering = r.findings.filter((f) => f.tampering);
  const info = r.findings.filter((f) => !f.tampering);
  const range = r.latest ? `digests ${r.fromSeq}..${r.latest.seq} (newest ends ${r.latest.periodEnd})` : 'no digests';
  const lines = [`Verified ${range}: ${r.batches} batches, ${r.records} records; signing key ${r.keyId} (sha256 ${r.keySha256}).`];
  for (const k of r.previousKeys) lines.push(`Earlier signing key supplied: ${k.keyId} (sha256 ${k.keySha256}).`);
  if (tampering.length > 0) lines.push('', `TAMPERING: ${tampering.length} finding(s)`, ...tampering.map(findingLine));
  if (info.length > 0) lines.push('', `Accounted for (informational): ${info.length}`, ...info.map(findingLine));
  lines.push('', tampering.length > 0 ? 'Result: the audit trail was TAMPERED WITH.' : 'Result: the audit trail is intact.');
  return lines.join('\n');
}
