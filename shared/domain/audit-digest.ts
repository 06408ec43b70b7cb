/**
 * Tamper evidence for audit logs (issue #6, FR-LOG-001/003, CON-SEC-002; ADR-0008), after CloudTrail's
 * digest files. Three layers, each covering the one below:
 *
 *   record  auditRecordHash(record)                          (audit-chain.ts)
 *   batch   sha256 over the lines `pk\tsk\tid\thash\n`, in delivery order (the consumer's ledger)
 *   digest  canonical JSON naming every batch delivered in (periodStart, periodEnd], the previous digest's
 *           hash and signature, signed ECDSA P-256 / SHA-256 (KMS in AWS, a local key file locally)
 *
 * `verifyChain` is what `cpctl audit verify` runs on the client: it recomputes every hash itself and
 * trusts nothing the server says except the bytes it hands over. Legitimate rewrites and deletions
 * (erasure, tenant purge, retention) are told apart from tampering only by evidence that is itself in the
 * verified chain (the erasure's and the purge's own audit records) or by the record's age.
 */
import { createHash, verify as verifySignature } from 'node:crypto';
import { z } from 'zod';
import type { AuditRecord } from './audit';
import { auditRecordHash } from './audit-chain';
import { canonicalJson } from './canonical-json';
import { authorize, type Subject } from './authorization';
import { ForbiddenError, InternalError } from './errors';
import type { AuditBatch, AuditBatchEntry, AuditBatchLedger, DigestSigner } from './ingest-ports';

export const DIGEST_ALGORITHM = 'ECDSA_P256_SHA256' as const;
/** periodStart of the first digest: it covers every batch delivered before its periodEnd. */
export const DIGEST_GENESIS = '1970-01-01T00:00:00.000Z';

/** Audit actions whose records vouch for rewritten records (see data-subject.ts, erasure). */
export const ERASURE_EVIDENCE_ACTIONS: ReadonlySet<string> = new Set(['user.data.erase', 'user.data.erase.evidence']);
/** How records reported by applications (API-LOG) are marked in their metadata (`source`), see ingestion.ts. */
const APP_SOURCE_PREFIX = 'app:';
/** The purge job's record (functions/jobs/purge-tenants.ts): vouches for the tenant's deleted records. */
export const PURGE_ACTION = 'tenant.purge';

// --- batches ------------------------------------------------------------------------------------------

/** Tabs and newlines separate the fields of a batch line: a field containing one would make two entry lists hash alike. */
const LINE_BREAKING = /[\t\n]/;

export function isHashableEntry(e: AuditBatchEntry): boolean {
  return !LINE_BREAKING.test(e.pk) && !LINE_BREAKING.test(e.sk) && !LINE_BREAKING.test(e.id) && /^[0-9a-f]{64}$/.test(e.hash);
}

export function batchLine(e: AuditBatchEntry): string {
  return `${e.pk}\t${e.sk}\t${e.id}\t${e.hash}\n`;
}

/** The batch hash: sha256 (hex) over the entries' lines in delivery order, so order is covered too. */
export function batchHash(entries: readonly AuditBatchEntry[]): string {
  const h = createHash('sha256');
  for (const e of entries) h.update(batchLine(e));
  return h.digest('hex');
}

// --- digests ------------------------------------------------------------------------------------------

export interface DigestBatchRef {
  readonly batchId: string;
  readonly deliveredAt: string;
  readonly hash: string;
  readonly recordCount: number;
}

export interface DigestDocument {
  readonly seq: number;
  readonly region: string;
  /** Exclusive: the previous digest's periodEnd (DIGEST_GENESIS for the first). */
  readonly periodStart: string;
  /** Inclusive. */
  readonly periodEnd: string;
  readonly previousDigestHash: string | null;
  /** Base64 DER signature of the previous digest. */
  readonly previousDigestSignature: string | null;
  readonly batches: readonly DigestBatchRef[];
  readonly recordCount: number;
  readonly keyId: string;
  readonly algorithm: typeof DIGEST_ALGORITHM;
}

/** A digest as stored and served: the exact signed bytes (canonical JSON) and the signature over them. */
export interface SignedDigest {
  readonly seq: number;
  readonly document: string;
  /** sha256 hex of `document`; verifiers recompute it. */
  readonly hash: string;
  /** Base64 of the DER-encoded ECDSA signature. */
  readonly signature: string;
  readonly keyId: string;
}

const iso = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const documentSchema = z.strictObject({
  seq: z.int().min(1),
  region: z.string(),
  periodStart: iso,
  periodEnd: iso,
  previousDigestHash: hex64.nullable(),
  previousDigestSignature: z.string().nullable(),
  batches: z.array(z.strictObject({ batchId: z.string(), deliveredAt: iso, hash: hex64, recordCount: z.int().min(0) })),
  recordCount: z.int().min(0),
  keyId: z.string(),
  algorithm: z.literal(DIGEST_ALGORITHM),
});

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The SPKI public key's fingerprint as auditors pin it (`cpctl audit verify --key-sha256`). */
export function keyFingerprint(spkiDer: Uint8Array): string {
  return sha256Hex(spkiDer);
}

export function buildDigest(input: {
  readonly seq: number;
  readonly region: string;
  readonly periodStart: string;
  readonly periodEnd: string;
  readonly previous: SignedDigest | null;
  readonly batches: readonly DigestBatchRef[];
  readonly keyId: string;
}): { readonly document: DigestDocument; readonly canonical: string } {
  if (input.previous !== null && input.previous.seq !== input.seq - 1) throw new InternalError(`digest ${input.seq} cannot follow digest ${input.previous.seq}`);
  if (input.previous === null && input.seq !== 1) throw new InternalError(`digest ${input.seq} needs its predecessor`);
  if (input.periodEnd <= input.periodStart) throw new InternalError(`empty digest period (${input.periodStart}, ${input.periodEnd}]`);
  const document: DigestDocument = {
    seq: input.seq,
    region: input.region,
    periodStart: input.periodStart,
    periodEnd: input.periodEnd,
    previousDigestHash: input.previous?.hash ?? null,
    previousDigestSignature: input.previous?.signature ?? null,
    batches: input.batches.map((b) => ({ batchId: b.batchId, deliveredAt: b.deliveredAt, hash: b.hash, recordCount: b.recordCount })),
    recordCount: input.batches.reduce((n, b) => n + b.recordCount, 0),
    keyId: input.keyId,
    algorithm: DIGEST_ALGORITHM,
  };
  return { document, canonical: canonicalJson(document) };
}

export async function signDigest(built: { readonly document: DigestDocument; readonly canonical: string }, signer: DigestSigner): Promise<SignedDigest> {
  const signature = await signer.sign(new TextEncoder().encode(built.canonical));
  return { seq: built.document.seq, document: built.canonical, hash: sha256Hex(built.canonical), signature: Buffer.from(signature).toString('base64'), keyId: built.document.keyId };
}

/** Undefined when the text is not a digest document (or not in canonical form: the signed bytes are the canonical ones). */
export function parseDigestDocument(text: string): DigestDocument | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = documentSchema.safeParse(raw);
  if (!parsed.success || canonicalJson(parsed.data) !== text) return undefined;
  return parsed.data;
}

/** ECDSA P-256 / SHA-256 over the document bytes; the signature is DER, as KMS returns it. */
export function verifyDigestSignature(document: string, signatureBase64: string, spkiDer: Uint8Array): boolean {
  try {
    return verifySignature('sha256', Buffer.from(document, 'utf8'), { key: Buffer.from(spkiDer), format: 'der', type: 'spki', dsaEncoding: 'der' }, Buffer.from(signatureBase64, 'base64'));
  } catch {
    // A malformed key or signature verifies nothing; the caller reports the digest as unverifiable.
    return false;
  }
}

// --- the ledger port (beyond the consumer's AuditBatchLedger) --------------------------------------------

/** What the digest job and the verification endpoints read and write; shared/adapters/dynamo/audit-ledger.ts. */
export interface AuditLedgerStore extends AuditBatchLedger {
  /** Batches delivered in (afterExclusive, untilInclusive], in delivery order, without their entries; at most `limit`. */
  batchesDeliveredIn(afterExclusive: string, untilInclusive: string, limit: number): Promise<DigestBatchRef[]>;
  /** A batch with all its entries; undefined when absent or incomplete. */
  getBatch(deliveredAt: string, batchId: string): Promise<AuditBatch | undefined>;
  latestDigest(): Promise<SignedDigest | undefined>;
  getDigest(seq: number): Promise<SignedDigest | undefined>;
  /** Digests from `fromSeq` on, in seq order, at most `limit`. */
  listDigests(fromSeq: number, limit: number): Promise<SignedDigest[]>;
  /** ConflictError when digest `seq` exists already (two concurrent runs). */
  putDigest(digest: SignedDigest): Promise<void>;
  /** The audit records at these keys as stored now (record attributes only); absent keys are missing from the map (key: recordKey). */
  storedRecords(keys: readonly { readonly pk: string; readonly sk: string }[]): Promise<Map<string, Record<string, unknown>>>;
}

/** Digests and the records they cover are for Auditors only (ADR-0007: `audit.read.all`). */
export function requireAuditReadAll(subject: Subject): void {
  const d = authorize(subject, 'audit.read.all', null);
  if (!d.allowed) throw new ForbiddenError(`Not allowed: ${d.reason}.`, d.reason);
}

export function recordKey(pk: string, sk: string): string {
  return `${pk}\u0000${sk}`;
}

// --- verification -------------------------------------------------------------------------------------

export const FINDING_KINDS = [
  'altered',
  'missing',
  'reordered',
  'batch-altered',
  'batch-missing',
  'digest-signature-invalid',
  'digest-chain-broken',
  'pseudonymised',
  'purged',
  'expired',
  'digest-stale',
] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

/** Kinds that prove a change nobody accounted for. The others are informational. */
export const TAMPERING_KINDS: ReadonlySet<FindingKind> = new Set(['altered', 'missing', 'reordered', 'batch-altered', 'batch-missing', 'digest-signature-invalid', 'digest-chain-broken']);

export interface Finding {
  readonly kind: FindingKind;
  readonly tampering: boolean;
  /** The digest the finding is about, or that chains the batch/record. */
  readonly seq?: number;
  readonly batchId?: string;
  /** Table key and id of the record (expected at that key). */
  readonly pk?: string;
  readonly sk?: string;
  readonly id?: string;
  readonly detail: string;
}

/** A stored record as the verifier keeps it: its hash, and the record itself only where it may be evidence. */
export interface StoredRecordView {
  readonly hash: string;
  readonly evidence?: Readonly<Record<string, unknown>>;
}

/**
 * Hash of a record as it is stored now, whatever it looks like (a tampered item need not be a valid
 * record). auditRecordHash only reads the nine record fields and canonicalises what it finds, so a
 * missing or mistyped field simply changes the hash; the cast restates that.
 */
export function storedRecordHash(stored: Readonly<Record<string, unknown>>): string {
  return auditRecordHash(stored as unknown as AuditRecord);
}

export function viewOfStored(stored: Readonly<Record<string, unknown>>): StoredRecordView {
  const action = stored['action'];
  const isEvidence = typeof action === 'string' && (ERASURE_EVIDENCE_ACTIONS.has(action) || action === PURGE_ACTION);
  return isEvidence ? { hash: storedRecordHash(stored), evidence: stored } : { hash: storedRecordHash(stored) };
}

/** A batch as the ledger holds it now (the verifier recomputes its hash). */
export interface LedgerBatchView {
  readonly entries: readonly AuditBatchEntry[];
}

export interface VerifyChainInput {
  /** In seq order. `hash` is ignored: recomputed from `document`. */
  readonly digests: readonly Pick<SignedDigest, 'seq' | 'document' | 'signature'>[];
  /** SPKI DER of the key a digest names, or undefined when unknown. */
  readonly publicKeyOf: (keyId: string) => Uint8Array | undefined;
  /** The ledger's batch for the digest's index-th batch, as found; undefined = absent. Only asked at or after checkRecordsFromSeq. */
  readonly batchOf: (seq: number, index: number, ref: DigestBatchRef) => LedgerBatchView | undefined;
  /** The record at a key as stored now; null = absent. */
  readonly storedAt: (pk: string, sk: string) => StoredRecordView | null;
  /** Digests before this seq only anchor the chain: their batches and records are not checked. Default: the first digest's. */
  readonly checkRecordsFromSeq?: number;
  readonly now: Date;
  /** RETENTION.auditDays: records older than this may have been deleted by the retention job. */
  readonly retentionDays: number;
  /** The newest digest should end no longer ago than this (default 1 h; the job runs every 15 min). */
  readonly staleAfterMs?: number;
}

export interface VerifyChainResult {
  readonly findings: readonly Finding[];
  readonly digests: number;
  readonly batches: number;
  readonly records: number;
  readonly tampered: boolean;
  readonly latest: { readonly seq: number; readonly periodEnd: string } | null;
}

interface Expected {
  readonly pk: string;
  readonly sk: string;
  readonly id: string;
  readonly hashes: Set<string>;
  readonly seq: number;
  /** Earliest delivery of the record (a redelivered record is in two batches). */
  deliveredAt: string;
}

const rewrittenSchema = z.array(z.object({ id: z.string(), hash: z.string() }));

function finding(kind: FindingKind, f: Omit<Finding, 'kind' | 'tampering'>): Finding {
  return { kind, tampering: TAMPERING_KINDS.has(kind), ...f };
}

/** The record's timestamp from its sort key (`AUDIT#<timestamp>#<id>`), else undefined. */
function timestampOfKey(sk: string): string | undefined {
  const m = /^AUDIT#(\d{4}-\d{2}-\d{2}T[^#]*)#/.exec(sk);
  return m?.[1];
}

function checkDigests(input: VerifyChainInput, findings: Finding[]): { trusted: { seq: number; doc: DigestDocument }[]; latest: VerifyChainResult['latest'] } {
  const trusted: { seq: number; doc: DigestDocument }[] = [];
  let prev: { seq: number; hash: string; signature: string; periodEnd: string } | undefined;
  let latest: VerifyChainResult['latest'] = null;
  for (const d of input.digests) {
    const hash = sha256Hex(d.document);
    const doc = parseDigestDocument(d.document);
    if (doc === undefined) {
      findings.push(finding('digest-signature-invalid', { seq: d.seq, detail: `digest ${d.seq} is not a well-formed digest document` }));
      prev = { seq: d.seq, hash, signature: d.signature, periodEnd: '' };
      continue;
    }
    const key = input.publicKeyOf(doc.keyId);
    const signed = key !== undefined && verifyDigestSignature(d.document, d.signature, key);
    if (!signed) {
      findings.push(finding('digest-signature-invalid', { seq: d.seq, detail: key === undefined ? `digest ${d.seq} names key ${doc.keyId}, which the verifier does not have` : `the signature of digest ${d.seq} does not verify with key ${doc.keyId}` }));
    }
    if (doc.seq !== d.seq) findings.push(finding('digest-chain-broken', { seq: d.seq, detail: `the digest stored as ${d.seq} says it is digest ${doc.seq}` }));
    if (prev !== undefined) {
      if (doc.seq !== prev.seq + 1) {
        findings.push(finding('digest-chain-broken', { seq: doc.seq, detail: `digest ${doc.seq} follows digest ${prev.seq}: digests ${prev.seq + 1}..${doc.seq - 1} are missing` }));
      } else if (doc.previousDigestHash !== prev.hash || doc.previousDigestSignature !== prev.signature) {
        findings.push(finding('digest-chain-broken', { seq: doc.seq, detail: `digest ${doc.seq} does not name digest ${prev.seq} (hash or signature differ): one of them was replaced` }));
      } else if (doc.periodStart !== prev.periodEnd) {
        findings.push(finding('digest-chain-broken', { seq: doc.seq, detail: `digest ${doc.seq} starts at ${doc.periodStart}, digest ${prev.seq} ended at ${prev.periodEnd}` }));
      }
    } else if (doc.seq === 1 && (doc.previousDigestHash !== null || doc.previousDigestSignature !== null || doc.periodStart !== DIGEST_GENESIS)) {
      findings.push(finding('digest-chain-broken', { seq: 1, detail: 'digest 1 names a predecessor or does not start at the genesis' }));
    }
    if (signed) trusted.push({ seq: d.seq, doc });
    prev = { seq: doc.seq, hash, signature: d.signature, periodEnd: doc.periodEnd };
    latest = { seq: doc.seq, periodEnd: doc.periodEnd };
  }
  return { trusted, latest };
}

/**
 * Checks the digests (signatures, chain), the batches they name (hashes) and the records those batches
 * name (hashes as stored now), and explains each difference: tampering, or one of the legitimate
 * rewrites/deletions for which the chain holds evidence. Pure: the caller fetched everything.
 */
export function verifyChain(input: VerifyChainInput): VerifyChainResult {
  const findings: Finding[] = [];
  const { trusted, latest } = checkDigests(input, findings);
  const staleAfter = input.staleAfterMs ?? 60 * 60 * 1000;
  if (latest === null) {
    findings.push(finding('digest-stale', { detail: 'there are no digests to verify (yet)' }));
  } else if (input.now.getTime() - Date.parse(latest.periodEnd) > staleAfter) {
    // Deleting the newest digests leaves a shorter chain that verifies: only its age gives it away.
    findings.push(finding('digest-stale', { seq: latest.seq, detail: `the newest digest (${latest.seq}) ends at ${latest.periodEnd}; digests are expected every 15 minutes` }));
  }

  // Batches → the records each digest vouches for.
  const firstChecked = input.checkRecordsFromSeq ?? input.digests[0]?.seq ?? 1;
  const expected = new Map<string, Expected>();
  let batchCount = 0;
  for (const { seq, doc } of trusted) {
    if (seq < firstChecked) continue;
    for (const [index, ref] of doc.batches.entries()) {
      batchCount++;
      const batch = input.batchOf(seq, index, ref);
      if (batch === undefined) {
        findings.push(finding('batch-missing', { seq, batchId: ref.batchId, detail: `batch ${ref.batchId} (delivered ${ref.deliveredAt}, ${ref.recordCount} records) is gone from the ledger; its records cannot be checked` }));
        continue;
      }
      if (batch.entries.length !== ref.recordCount || batchHash(batch.entries) !== ref.hash) {
        findings.push(finding('batch-altered', { seq, batchId: ref.batchId, detail: `batch ${ref.batchId} in the ledger does not hash to what digest ${seq} signed (${batch.entries.length} entries, ${ref.recordCount} signed); its records cannot be checked` }));
        continue;
      }
      for (const e of batch.entries) {
        const k = recordKey(e.pk, e.sk);
        const known = expected.get(k);
        if (known) {
          known.hashes.add(e.hash);
          if (ref.deliveredAt < known.deliveredAt) known.deliveredAt = ref.deliveredAt;
        } else {
          expected.set(k, { pk: e.pk, sk: e.sk, id: e.id, hashes: new Set([e.hash]), seq, deliveredAt: ref.deliveredAt });
        }
      }
    }
  }

  // The records as stored now.
  const stored = new Map<string, StoredRecordView | null>();
  for (const [k, e] of expected) stored.set(k, input.storedAt(e.pk, e.sk));
  const intact = new Set<string>();
  for (const [k, e] of expected) {
    const s = stored.get(k);
    if (s && e.hashes.has(s.hash)) intact.add(k);
  }

  // Evidence, only from records that are themselves intact (or vouched for): erasures and purges.
  const erasures = new Map<string, Map<string, Set<string>>>(); // pk → record id → rewritten hashes
  const purges = new Map<string, string>(); // tenant id → delivery of the purge record
  const pseudonymised = new Set<string>();
  const harvested = new Set<string>();
  const harvest = (k: string): void => {
    if (harvested.has(k)) return;
    harvested.add(k);
    const e = expected.get(k);
    const record = stored.get(k)?.evidence;
    if (!e || !record || record['outcome'] !== 'Success') return;
    const action = record['action'];
    const metadata = record['metadata'];
    if (typeof action === 'string' && ERASURE_EVIDENCE_ACTIONS.has(action) && metadata !== null && typeof metadata === 'object') {
      const m = metadata as Record<string, unknown>;
      // Applications may report any event type into a tenant's log (API-LOG), always stamped `source: app:<id>`: they vouch for nothing.
      if (typeof m['source'] === 'string' && m['source'].startsWith(APP_SOURCE_PREFIX)) return;
      const list = rewrittenSchema.safeParse(m['rewrittenAuditRecords']);
      if (!list.success) return;
      const byId = erasures.get(e.pk) ?? new Map<string, Set<string>>();
      erasures.set(e.pk, byId);
      for (const r of list.data) byId.set(r.id, (byId.get(r.id) ?? new Set<string>()).add(r.hash));
    } else if (action === PURGE_ACTION && e.pk === 'PLATFORM#AUDIT' && typeof record['resource'] === 'string' && record['resource'].startsWith('tenant:')) {
      const tenantId = record['resource'].slice('tenant:'.length);
      const before = purges.get(tenantId);
      if (before === undefined || e.deliveredAt > before) purges.set(tenantId, e.deliveredAt);
    }
  };
  for (const k of intact) harvest(k);
  // An erasure record may itself have been pseudonymised by a later erasure (its actor was erased): repeat until stable.
  for (let changed = true; changed; ) {
    changed = false;
    for (const [k, e] of expected) {
      const s = stored.get(k);
      if (!s || intact.has(k) || pseudonymised.has(k)) continue;
      if (erasures.get(e.pk)?.get(e.id)?.has(s.hash)) {
        pseudonymised.add(k);
        harvest(k);
        changed = true;
      }
    }
  }

  // Classify what differs.
  const hashOwner = new Map<string, string>();
  for (const [k, e] of expected) for (const h of e.hashes) hashOwner.set(h, k);
  const movedTo = new Map<string, string>(); // key → key whose expected content it now holds
  const mismatched: string[] = [];
  for (const [k, e] of expected) {
    const s = stored.get(k);
    if (s === null || s === undefined) {
      const tenantId = e.pk.startsWith('TENANT#') ? e.pk.slice('TENANT#'.length) : undefined;
      const purgedAt = tenantId === undefined ? undefined : purges.get(tenantId);
      const ts = timestampOfKey(e.sk) ?? e.deliveredAt;
      if (purgedAt !== undefined && e.deliveredAt <= purgedAt) {
        findings.push(finding('purged', { seq: e.seq, pk: e.pk, sk: e.sk, id: e.id, detail: `deleted by the purge of tenant ${tenantId} (recorded ${purgedAt})` }));
      } else if (input.now.getTime() - Date.parse(ts) > input.retentionDays * 86_400_000) {
        findings.push(finding('expired', { seq: e.seq, pk: e.pk, sk: e.sk, id: e.id, detail: `older than the ${input.retentionDays}-day retention period` }));
      } else {
        findings.push(finding('missing', { seq: e.seq, pk: e.pk, sk: e.sk, id: e.id, detail: `record ${e.id} is gone; no purge, erasure or retention accounts for it` }));
      }
      continue;
    }
    if (intact.has(k)) continue;
    if (pseudonymised.has(k)) {
      findings.push(finding('pseudonymised', { seq: e.seq, pk: e.pk, sk: e.sk, id: e.id, detail: 'rewritten by a right-to-erasure request whose audit record lists it with this content' }));
      continue;
    }
    mismatched.push(k);
    const owner = hashOwner.get(s.hash);
    if (owner !== undefined && owner !== k) movedTo.set(k, owner);
  }
  // Swapped (or rotated) contents: following "holds the content expected at" leads back to the start.
  const reordered = new Set<string>();
  for (const start of movedTo.keys()) {
    if (reordered.has(start)) continue;
    const path: string[] = [];
    let cur: string | undefined = start;
    while (cur !== undefined && movedTo.has(cur) && !path.includes(cur)) {
      path.push(cur);
      cur = movedTo.get(cur);
    }
    if (cur === start) for (const k of path) reordered.add(k);
  }
  for (const k of mismatched) {
    const e = expected.get(k)!;
    const other = movedTo.get(k);
    const o = other === undefined ? undefined : expected.get(other);
    if (reordered.has(k) && o) {
      findings.push(finding('reordered', { seq: e.seq, pk: e.pk, sk: e.sk, id: e.id, detail: `holds record ${o.id}, expected at ${o.pk} ${o.sk}: records were swapped` }));
    } else if (o) {
      findings.push(finding('altered', { seq: e.seq, pk: e.pk, sk: e.sk, id: e.id, detail: `replaced by a copy of record ${o.id} (expected at ${o.pk} ${o.sk})` }));
    } else {
      findings.push(finding('altered', { seq: e.seq, pk: e.pk, sk: e.sk, id: e.id, detail: `record ${e.id} does not hash to what the chain recorded` }));
    }
  }

  return { findings, digests: input.digests.length, batches: batchCount, records: expected.size, tampered: findings.some((f) => f.tampering), latest };
}
