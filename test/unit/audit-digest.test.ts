/**
 * Tamper evidence, pure (issue #6, ADR-0008): batch hashes, signed chained digests, and the verifier's
 * findings for each kind of change — the same code `cpctl audit verify` runs on the auditor's machine.
 */
import { createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FileDigestSigner, DIGEST_KEY_FILE } from '../../shared/adapters/local/file-digest-signer';
import { toAuditItem } from '../../shared/adapters/dynamo/codecs';
import type { AuditRecord } from '../../shared/domain/audit';
import { auditRecordHash } from '../../shared/domain/audit-chain';
import {
  batchHash,
  buildDigest,
  DIGEST_GENESIS,
  parseDigestDocument,
  recordKey,
  signDigest,
  verifyChain,
  verifyDigestSignature,
  viewOfStored,
  type DigestBatchRef,
  type SignedDigest,
  type VerifyChainInput,
} from '../../shared/domain/audit-digest';
import { eraseUser, erasureEvidenceParts, ERASURE_EVIDENCE_PER_RECORD, type DataSubjectStore, type SubjectProfile } from '../../shared/domain/data-subject';
import type { AuditBatchEntry } from '../../shared/domain/ingest-ports';

const TENANT = '11111111-1111-4111-8111-111111111111';
const NOW = new Date('2030-01-01T12:00:00.000Z');
let signer: FileDigestSigner;
let spki: Uint8Array;
let n = 0;

beforeAll(async () => {
  signer = new FileDigestSigner({ dataDir: mkdtempSync(join(tmpdir(), 'digest-unit-')) });
  spki = await signer.publicKey();
});

function rec(over: Partial<AuditRecord> = {}): AuditRecord {
  n++;
  return {
    id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    timestamp: new Date(NOW.getTime() - 3_600_000 + n * 1000).toISOString(),
    tenantId: TENANT,
    actorId: 'actor-1',
    actorType: 'User',
    action: 'tenant.settings.update',
    resource: `tenant:${TENANT}`,
    outcome: 'Success',
    metadata: { ip: '192.0.2.1', requestId: `req-${n}` },
    ...over,
  };
}

function entryOf(r: AuditRecord): AuditBatchEntry {
  const item = toAuditItem(r);
  return { pk: String(item['PK']), sk: String(item['SK']), id: r.id, hash: auditRecordHash(r) };
}

interface World {
  digests: SignedDigest[];
  /** seq/index → entries, as the ledger holds them. */
  ledger: Map<string, AuditBatchEntry[]>;
  /** key → record as stored. */
  table: Map<string, Record<string, unknown>>;
  entries: Map<string, AuditBatchEntry>;
}

/** Each inner array is one digest; each element one batch of records (delivered at the given time). */
async function world(spec: { deliveredAt: string; records: AuditRecord[] }[][]): Promise<World> {
  const w: World = { digests: [], ledger: new Map(), table: new Map(), entries: new Map() };
  let periodStart = DIGEST_GENESIS;
  for (const [i, batches] of spec.entries()) {
    const refs: DigestBatchRef[] = [];
    for (const [index, b] of batches.entries()) {
      const entries = b.records.map(entryOf);
      w.ledger.set(`${i + 1}/${index}`, entries);
      for (const [j, r] of b.records.entries()) {
        const { PK: _pk, SK: _sk, entity: _e, ...stored } = toAuditItem(r);
        w.table.set(recordKey(entries[j]!.pk, entries[j]!.sk), stored);
        w.entries.set(r.id, entries[j]!);
      }
      refs.push({ batchId: `batch-${i + 1}-${index}`, deliveredAt: b.deliveredAt, hash: batchHash(entries), recordCount: entries.length });
    }
    const periodEnd = new Date(NOW.getTime() - 120_000 * (spec.length - i)).toISOString();
    const built = buildDigest({ seq: i + 1, region: 'eu-central-1', periodStart, periodEnd, previous: w.digests[i - 1] ?? null, batches: refs, keyId: signer.keyId });
    w.digests.push(await signDigest(built, signer));
    periodStart = periodEnd;
  }
  return w;
}

function verifyWorld(w: World, over: Partial<VerifyChainInput> = {}): ReturnType<typeof verifyChain> {
  return verifyChain({
    digests: w.digests,
    publicKeyOf: (keyId) => (keyId === signer.keyId ? spki : undefined),
    batchOf: (seq, index) => {
      const entries = w.ledger.get(`${seq}/${index}`);
      return entries ? { entries } : undefined;
    },
    storedAt: (pk, sk) => {
      const s = w.table.get(recordKey(pk, sk));
      return s ? viewOfStored(s) : null;
    },
    now: NOW,
    retentionDays: 2557,
    ...over,
  });
}

function keyOf(w: World, r: AuditRecord): string {
  const e = w.entries.get(r.id)!;
  return recordKey(e.pk, e.sk);
}

const at = (minutesAgo: number): string => new Date(NOW.getTime() - minutesAgo * 60_000).toISOString();

describe('batches and digests', () => {
  it('FR-LOG-001: a batch hash covers every entry and their order', () => {
    const [a, b] = [entryOf(rec()), entryOf(rec())] as [AuditBatchEntry, AuditBatchEntry];
    expect(batchHash([a, b])).toMatch(/^[0-9a-f]{64}$/);
    expect(batchHash([a, b])).not.toBe(batchHash([b, a]));
    expect(batchHash([a, b])).not.toBe(batchHash([a]));
    expect(batchHash([a, { ...b, hash: b.hash.replace(/^./, (c) => (c === '0' ? '1' : '0')) }])).not.toBe(batchHash([a, b]));
  });

  it('CON-SEC-002: a digest is canonical JSON chained to its predecessor and signed ECDSA P-256/SHA-256 (DER), verifiable with crypto.verify', async () => {
    const w = await world([[{ deliveredAt: at(10), records: [rec(), rec()] }], [], [{ deliveredAt: at(3), records: [rec()] }]]);
    const [d1, d2, d3] = w.digests as [SignedDigest, SignedDigest, SignedDigest];
    const doc1 = parseDigestDocument(d1.document)!;
    expect(doc1).toMatchObject({ seq: 1, periodStart: DIGEST_GENESIS, previousDigestHash: null, previousDigestSignature: null, recordCount: 2, algorithm: 'ECDSA_P256_SHA256', keyId: signer.keyId });
    // An empty period still gets its digest: it proves that nothing was delivered.
    expect(parseDigestDocument(d2.document)).toMatchObject({ seq: 2, batches: [], recordCount: 0, previousDigestHash: d1.hash, previousDigestSignature: d1.signature, periodStart: doc1.periodEnd });
    expect(parseDigestDocument(d3.document)?.previousDigestHash).toBe(d2.hash);
    const key = createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' });
    expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(verify('sha256', Buffer.from(d1.document), { key, dsaEncoding: 'der' }, Buffer.from(d1.signature, 'base64'))).toBe(true);
    expect(verifyDigestSignature(d1.document.replace('eu-central-1', 'eu-central-2'), d1.signature, spki)).toBe(false);
    expect(verifyChain({ ...baseInput(w) }).findings).toEqual([]);
  });

  it('CON-SEC-002: the local key file is created once, mode 0600, and its thumbprint is the key id', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'digest-key-'));
    const [a, b] = [new FileDigestSigner({ dataDir: dir }), new FileDigestSigner({ dataDir: dir })];
    expect(a.keyId).toMatch(/^local:[A-Za-z0-9_-]{43}$/);
    expect(b.keyId).toBe(a.keyId);
    expect(Buffer.from(await b.publicKey())).toEqual(Buffer.from(await a.publicKey()));
    expect(statSync(join(dir, DIGEST_KEY_FILE)).mode & 0o777).toBe(0o600);
    const sig = await b.sign(new TextEncoder().encode('x'));
    expect(verifyDigestSignature('x', Buffer.from(sig).toString('base64'), await a.publicKey())).toBe(true);
  });
});

function baseInput(w: World): VerifyChainInput {
  return {
    digests: w.digests,
    publicKeyOf: () => spki,
    batchOf: (seq, index) => {
      const entries = w.ledger.get(`${seq}/${index}`);
      return entries ? { entries } : undefined;
    },
    storedAt: (pk, sk) => {
      const s = w.table.get(recordKey(pk, sk));
      return s ? viewOfStored(s) : null;
    },
    now: NOW,
    retentionDays: 2557,
  };
}

describe('verifyChain: tampering', () => {
  it('FR-LOG-001: an untouched chain has no findings', async () => {
    const w = await world([[{ deliveredAt: at(10), records: [rec(), rec(), rec()] }], [{ deliveredAt: at(4), records: [rec()] }]]);
    const r = verifyWorld(w);
    expect(r).toMatchObject({ tampered: false, digests: 2, batches: 2, records: 4, findings: [] });
  });

  it('FR-LOG-001: one changed byte, one deleted record and two swapped records are each named with key and id', async () => {
    const rs = [rec(), rec(), rec(), rec(), rec()] as [AuditRecord, AuditRecord, AuditRecord, AuditRecord, AuditRecord];
    const w = await world([[{ deliveredAt: at(10), records: rs.slice(0, 3) }], [{ deliveredAt: at(4), records: rs.slice(3) }]]);
    w.table.set(keyOf(w, rs[0]), { ...w.table.get(keyOf(w, rs[0])), action: 'tenant.settings.updatf' });
    w.table.delete(keyOf(w, rs[1]));
    const [s2, s4] = [w.table.get(keyOf(w, rs[2]))!, w.table.get(keyOf(w, rs[4]))!];
    w.table.set(keyOf(w, rs[2]), s4);
    w.table.set(keyOf(w, rs[4]), s2);

    const r = verifyWorld(w);
    expect(r.tampered).toBe(true);
    const named = r.findings.map((f) => ({ kind: f.kind, id: f.id, pk: f.pk, sk: f.sk, seq: f.seq }));
    const e = (x: AuditRecord): AuditBatchEntry => w.entries.get(x.id)!;
    expect(named).toEqual(
      expect.arrayContaining([
        { kind: 'altered', id: rs[0].id, pk: e(rs[0]).pk, sk: e(rs[0]).sk, seq: 1 },
        { kind: 'missing', id: rs[1].id, pk: e(rs[1]).pk, sk: e(rs[1]).sk, seq: 1 },
        { kind: 'reordered', id: rs[2].id, pk: e(rs[2]).pk, sk: e(rs[2]).sk, seq: 1 },
        { kind: 'reordered', id: rs[4].id, pk: e(rs[4]).pk, sk: e(rs[4]).sk, seq: 2 },
      ]),
    );
    expect(r.findings).toHaveLength(4);
    expect(r.findings.find((f) => f.id === rs[2].id)?.detail).toContain(rs[4].id);
  });

  it('FR-LOG-001: a record overwritten with a copy of another is altered, not reordered', async () => {
    const [a, b] = [rec(), rec()];
    const w = await world([[{ deliveredAt: at(10), records: [a, b] }]]);
    w.table.set(keyOf(w, a), w.table.get(keyOf(w, b))!);
    const r = verifyWorld(w);
    expect(r.findings).toEqual([expect.objectContaining({ kind: 'altered', id: a.id, tampering: true })]);
    expect(r.findings[0]?.detail).toContain(`copy of record ${b.id}`);
  });

  it('CON-SEC-002: a digest whose bytes changed fails its signature, and its successor no longer chains to it', async () => {
    const w = await world([[{ deliveredAt: at(10), records: [rec()] }], [{ deliveredAt: at(4), records: [rec()] }]]);
    const d1 = w.digests[0]!;
    w.digests[0] = { ...d1, document: d1.document.replace(/"recordCount":1}/, '"recordCount":1 }') };
    expect(verifyWorld(w).findings.map((f) => [f.kind, f.seq])).toEqual(
      expect.arrayContaining([
        ['digest-signature-invalid', 1],
        ['digest-chain-broken', 2],
      ]),
    );
    const forged = await world([[{ deliveredAt: at(10), records: [rec()] }]]);
    const other = new FileDigestSigner({ dataDir: mkdtempSync(join(tmpdir(), 'digest-other-')) });
    const doc = parseDigestDocument(forged.digests[0]!.document)!;
    forged.digests[0] = await signDigest(buildDigest({ ...doc, previous: null }), other);
    expect(verifyWorld(forged).findings).toEqual([expect.objectContaining({ kind: 'digest-signature-invalid', seq: 1, tampering: true })]);
  });

  it('CON-SEC-002: a deleted digest in the middle breaks the chain', async () => {
    const w = await world([[{ deliveredAt: at(10), records: [rec()] }], [], [{ deliveredAt: at(3), records: [rec()] }]]);
    w.digests.splice(1, 1);
    expect(verifyWorld(w).findings).toEqual([expect.objectContaining({ kind: 'digest-chain-broken', seq: 3, tampering: true })]);
  });

  it('FR-LOG-001: a ledger batch that lost an entry, or vanished, is reported (its records cannot be checked)', async () => {
    const a = rec();
    const w = await world([[{ deliveredAt: at(10), records: [a, rec()] }, { deliveredAt: at(9), records: [rec()] }]]);
    // The attacker deleted record a and its ledger entry: the batch no longer hashes to what was signed.
    w.table.delete(keyOf(w, a));
    w.ledger.set('1/0', w.ledger.get('1/0')!.slice(1));
    w.ledger.delete('1/1');
    const r = verifyWorld(w);
    expect(r.findings.map((f) => [f.kind, f.batchId])).toEqual([
      ['batch-altered', 'batch-1-0'],
      ['batch-missing', 'batch-1-1'],
    ]);
    expect(r.tampered).toBe(true);
  });

  it('CON-SEC-002: a stale chain (newest digests deleted, or the job stopped) is reported, but is not proof of tampering', async () => {
    const w = await world([[{ deliveredAt: at(10), records: [rec()] }]]);
    const r = verifyWorld(w, { now: new Date(NOW.getTime() + 3 * 3_600_000) });
    expect(r.findings).toEqual([expect.objectContaining({ kind: 'digest-stale', tampering: false })]);
    expect(r.tampered).toBe(false);
  });
});

describe('verifyChain: legitimate rewrites and deletions', () => {
  it('CON-COMP-001: records rewritten by an erasure listed in the chain are pseudonymised; an unlisted rewrite is still altered', async () => {
    const [about, other] = [rec({ resource: 'user:u-1', metadata: { email: 'a@example.com', ip: '192.0.2.9' } }), rec()];
    const rewritten: AuditRecord = { ...about, metadata: { erased: true } };
    const erase = rec({ action: 'user.data.erase', resource: 'user:u-1', metadata: { pseudonymId: 'p-1', rewrittenAuditRecords: [{ id: about.id, hash: auditRecordHash(rewritten) }] } });
    const w = await world([[{ deliveredAt: at(10), records: [about, other] }], [{ deliveredAt: at(4), records: [erase] }]]);
    const { PK: _p, SK: _s, entity: _e, ...stored } = toAuditItem(rewritten);
    w.table.set(keyOf(w, about), stored);
    w.table.set(keyOf(w, other), { ...w.table.get(keyOf(w, other)), metadata: { erased: true } });
    const r = verifyWorld(w);
    expect(r.findings.map((f) => [f.kind, f.id, f.tampering])).toEqual([
      ['pseudonymised', about.id, false],
      ['altered', other.id, true],
    ]);
  });

  it('CON-COMP-001: evidence counts only when the erasure record itself is intact (or itself pseudonymised by a later erasure)', async () => {
    const about = rec({ resource: 'user:u-2', metadata: { email: 'b@example.com' } });
    const rewritten: AuditRecord = { ...about, metadata: { erased: true } };
    const erase = rec({ action: 'user.data.erase', actorId: 'admin-1', resource: 'user:u-2', metadata: { ip: '198.51.100.1', rewrittenAuditRecords: [{ id: about.id, hash: auditRecordHash(rewritten) }] } });
    const eraseRewritten: AuditRecord = { ...erase, metadata: { rewrittenAuditRecords: [{ id: about.id, hash: auditRecordHash(rewritten) }], erased: true } };
    const eraseAdmin = rec({ action: 'user.data.erase', resource: 'user:admin-1', metadata: { rewrittenAuditRecords: [{ id: erase.id, hash: auditRecordHash(eraseRewritten) }] } });
    const w = await world([[{ deliveredAt: at(10), records: [about] }], [{ deliveredAt: at(6), records: [erase] }], [{ deliveredAt: at(4), records: [eraseAdmin] }]]);
    const strip = (r: AuditRecord): Record<string, unknown> => {
      const { PK: _p, SK: _s, entity: _e, ...stored } = toAuditItem(r);
      return stored;
    };
    w.table.set(keyOf(w, about), strip(rewritten));
    w.table.set(keyOf(w, erase), strip(eraseRewritten));
    expect(verifyWorld(w).findings.map((f) => [f.kind, f.id])).toEqual([
      ['pseudonymised', about.id],
      ['pseudonymised', erase.id],
    ]);
    // A forged erasure record (its hash is not the chained one) vouches for nothing.
    w.table.set(keyOf(w, eraseAdmin), { ...strip(eraseAdmin), metadata: { rewrittenAuditRecords: [] } });
    expect(verifyWorld(w).findings.map((f) => f.kind).sort()).toEqual(['altered', 'altered', 'altered']);
  });

  it('CON-COMP-001: an application cannot vouch for a rewrite by reporting a `user.data.erase` event itself (API-LOG)', async () => {
    const victim = rec();
    const forged: AuditRecord = { ...victim, action: 'tenant.settings.read' };
    const appEvent = rec({ action: 'user.data.erase', metadata: { rewrittenAuditRecords: [{ id: victim.id, hash: auditRecordHash(forged) }], source: 'app:rogue', ip: '203.0.113.5' } });
    const w = await world([[{ deliveredAt: at(10), records: [victim, appEvent] }]]);
    const { PK: _p, SK: _s, entity: _e, ...stored } = toAuditItem(forged);
    w.table.set(keyOf(w, victim), stored);
    expect(verifyWorld(w).findings.map((f) => [f.kind, f.id])).toEqual([['altered', victim.id]]);
  });

  it('FR-OPS-002: records of a purged tenant delivered before the purge are purged; one delivered after it is missing', async () => {
    const [before, after] = [rec(), rec()];
    const purge = rec({ tenantId: null, actorType: 'System', actorId: 'tenant-purge-job', action: 'tenant.purge', resource: `tenant:${TENANT}` });
    const w = await world([[{ deliveredAt: at(10), records: [before] }], [{ deliveredAt: at(6), records: [purge] }, { deliveredAt: at(5), records: [after] }]]);
    w.table.delete(keyOf(w, before));
    w.table.delete(keyOf(w, after));
    expect(verifyWorld(w).findings.map((f) => [f.kind, f.id, f.tampering])).toEqual([
      ['purged', before.id, false],
      ['missing', after.id, true],
    ]);
  });

  it('FR-OPS-003: a record past the retention period may be gone (expired); a younger one may not', async () => {
    const old = rec({ timestamp: '2022-01-01T00:00:00.000Z' });
    const young = rec();
    const w = await world([[{ deliveredAt: at(10), records: [old, young] }]]);
    w.table.delete(keyOf(w, old));
    w.table.delete(keyOf(w, young));
    expect(verifyWorld(w, { retentionDays: 365 }).findings.map((f) => [f.kind, f.id])).toEqual([
      ['expired', old.id],
      ['missing', young.id],
    ]);
  });
});

describe('erasure evidence (CON-COMP-001 × tamper evidence)', () => {
  function fakeStore(records: AuditRecord[]): DataSubjectStore & { table: Map<string, AuditRecord> } {
    const table = new Map(records.map((r) => [r.id, r]));
    const profile: SubjectProfile = { id: 'u-9', tenantId: TENANT, email: 'erin@example.com', role: 'User', status: 'Active', createdAt: '2029-01-01T00:00:00.000Z', passwordChangedAt: null };
    let erased = false;
    return {
      table,
      getProfile: async () => (erased ? undefined : profile),
      getErasure: async () => undefined,
      records: async () => ({ sessions: [], refreshFamilies: [], invitations: [], passwordResets: [] }),
      auditRecordsAbout: async () => [],
      changeEmail: async () => undefined,
      freeze: async () => undefined,
      deleteUserItems: async () => ({ sessions: 0, refreshFamilies: 0, codes: 0, invitations: 0, resets: 0 }),
      rewriteAudit: async (_t, _since, rewrite) => {
        let changed = 0;
        for (const r of [...table.values()]) {
          const metadata = rewrite(r);
          if (metadata === undefined) continue;
          table.set(r.id, { ...r, metadata });
          changed++;
        }
        return changed;
      },
      commitErasure: async () => {
        erased = true;
      },
    };
  }

  it('CON-COMP-001: eraseUser returns the new hash of every audit record it rewrote, matching the stored result', async () => {
    const about = rec({ resource: 'user:u-9', metadata: { email: 'erin@example.com', ip: '192.0.2.3' } });
    const mention = rec({ metadata: { note: 'invited Erin@Example.com' } });
    const untouched = rec();
    const store = fakeStore([about, mention, untouched]);
    const e = await eraseUser(
      { store, users: { countActiveOwners: async () => 2 }, ids: { uuid: () => 'pseudo-1', secretToken: () => 's' }, now: NOW },
      { role: 'Operator', tenantId: null },
      TENANT,
      'u-9',
      'erin@example.com',
    );
    expect(e.rewrittenAuditRecords.map((x) => x.id).sort()).toEqual([about.id, mention.id].sort());
    for (const x of e.rewrittenAuditRecords) expect(x.hash).toBe(auditRecordHash(store.table.get(x.id)!));
  });

  it('CON-COMP-001: long evidence lists are split across records of bounded size', () => {
    const list = Array.from({ length: ERASURE_EVIDENCE_PER_RECORD * 2 + 1 }, (_, i) => ({ id: `id-${i}`, hash: 'a'.repeat(64) }));
    const parts = erasureEvidenceParts(list);
    expect(parts.map((p) => [p.part, p.parts, p.rewrittenAuditRecords.length])).toEqual([
      [1, 3, ERASURE_EVIDENCE_PER_RECORD],
      [2, 3, ERASURE_EVIDENCE_PER_RECORD],
      [3, 3, 1],
    ]);
    expect(erasureEvidenceParts([])).toEqual([{ rewrittenAuditRecords: [], part: 1, parts: 1 }]);
  });
});
