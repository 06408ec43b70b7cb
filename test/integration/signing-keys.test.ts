/**
 * ADR-0005 token-signing keys: one contract, run against both SigningKeyStore adapters, plus what only one
 * adapter can show (the KMS calls, the key file). The KMS adapter runs against the run's DynamoDB Local;
 * KMS itself has no local stand-in, so a fake that really encrypts (AES-256-GCM, encryption context as
 * additional authenticated data) stands in for it through aws-sdk-client-mock.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DecryptCommand,
  EncryptCommand,
  IncorrectKeyException,
  InvalidCiphertextException,
  KMSClient,
  NotFoundException,
  type DecryptCommandInput,
  type EncryptCommandInput,
} from '@aws-sdk/client-kms';
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { describe, expect, inject, it, vi } from 'vitest';
import { KmsWrappedSigningKeyStore, SIGNING_KEY_REFRESH_SECONDS } from '../../shared/adapters/aws/kms-signing-keys';
import { createDocumentClient } from '../../shared/adapters/dynamo/client';
import { keys } from '../../shared/adapters/dynamo/keys';
import { ensureTable } from '../../shared/adapters/dynamo/table-admin';
import { FileSigningKeyStore, SIGNING_KEYS_FILE } from '../../shared/adapters/local/file-signing-keys';
import { AppError, ConflictError, ValidationError } from '../../shared/domain/errors';
import { signJwt } from '../../shared/domain/identity/jwt';
import type { SigningKeyStore } from '../../shared/domain/identity/ports';

// ---------------------------------------------------------------------------------------------------
// A gate in front of key generation. Both adapters read the current key, then generate the new one, then
// write; holding every generator until N callers have arrived proves that N calls really overlapped
// (all read the same current key before anyone wrote), so "exactly one wins" is deterministic.
const gate = vi.hoisted(() => {
  let needed = 0;
  let waiting: (() => void)[] = [];
  const state = { met: false };
  const release = (): void => {
    needed = 0;
    const w = waiting;
    waiting = [];
    for (const r of w) r();
  };
  return {
    state,
    arm(n: number): void {
      needed = n;
      waiting = [];
      state.met = false;
    },
    async pass(): Promise<void> {
      if (needed === 0) return;
      await new Promise<void>((resolve) => {
        waiting.push(resolve);
        if (waiting.length >= needed) {
          state.met = true;
          release();
        } else {
          // Never hang the suite: a gate that is not met in time opens anyway, and `met` stays false.
          setTimeout(release, 10_000).unref();
        }
      });
    },
  };
});

vi.mock('jose', async (importOriginal) => {
  const actual = await importOriginal<typeof import('jose')>();
  return {
    ...actual,
    generateKeyPair: async (...args: Parameters<typeof actual.generateKeyPair>) => {
      await gate.pass();
      return actual.generateKeyPair(...args);
    },
  };
});

// ---------------------------------------------------------------------------------------------------
// Shared pieces

const RETAIN_SECONDS = 900;
const ACCESS_TOKEN_SECONDS = 300;
const ISSUER = 'https://auth.eu-central-1.example';

class TestClock {
  private ms = Date.parse('2026-11-21T09:00:00.000Z');
  readonly now = (): Date => new Date(this.ms);
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

interface Backing {
  /** A new store instance over the same keys: another execution environment or process. */
  open(): SigningKeyStore;
  /** The kids whose records (and so private key material) are still stored. */
  storedKids(): Promise<string[]>;
}
/** leadSeconds: the stores' publication lead (staged rotation); 0 makes every rotation sign at once. */
type MakeBacking = (clock: TestClock, leadSeconds?: number) => Promise<Backing>;

const LEAD_SECONDS = 600;

async function sign(store: SigningKeyStore, clock: TestClock, sub = 'user-1'): Promise<string> {
  return signJwt(await store.current(), { iss: ISSUER, sub, aud: 'api', client_id: 'app', scope: 'openid', jti: randomUUID() }, {
    typ: 'at+jwt',
    expiresInSeconds: ACCESS_TOKEN_SECONDS,
    now: clock.now(),
  });
}

async function verifyWith(store: SigningKeyStore, token: string, clock: TestClock) {
  return jwtVerify(token, createLocalJWKSet(await store.publicJwks()), {
    algorithms: ['ES256'],
    issuer: ISSUER,
    typ: 'at+jwt',
    currentDate: clock.now(),
  });
}

async function kidsOf(store: SigningKeyStore): Promise<string[]> {
  return (await store.publicJwks()).keys.map((k) => String(k.kid)).sort();
}

// ---------------------------------------------------------------------------------------------------
// The contract

function signingKeyStoreContract(name: string, makeBacking: MakeBacking): void {
  describe(`SigningKeyStore contract: ${name}`, () => {
    it('NFR-SEC-004: the first current() creates one ES256 key whose kid is its RFC 7638 thumbprint; publicJwks() alone creates nothing', async () => {
      const clock = new TestClock();
      const backing = await makeBacking(clock);
      const store = backing.open();
      expect(await store.publicJwks()).toEqual({ keys: [] });
      expect(await backing.storedKids()).toEqual([]);

      const key = await store.current();
      expect(key.alg).toBe('ES256');
      expect(key.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(await backing.storedKids()).toEqual([key.kid]);

      // A fresh instance: the cached view of the creating instance must not hide a stale empty one.
      const { keys: published } = await backing.open().publicJwks();
      expect(published).toHaveLength(1);
      const [jwk] = published;
      expect(jwk).toEqual({ kty: 'EC', crv: 'P-256', x: expect.any(String), y: expect.any(String), kid: key.kid, use: 'sig', alg: 'ES256' });
      const canonical = JSON.stringify({ crv: jwk?.crv, kty: jwk?.kty, x: jwk?.x, y: jwk?.y });
      expect(createHash('sha256').update(canonical).digest('base64url')).toBe(key.kid);
    });

    it('NFR-SEC-004: current() gives the same key every time, including to many concurrent first callers', async () => {
      const clock = new TestClock();
      const backing = await makeBacking(clock);
      const store = backing.open();
      const all = await Promise.all(Array.from({ length: 20 }, () => store.current()));
      expect(new Set(all.map((k) => k.kid)).size).toBe(1);
      expect((await store.current()).kid).toBe(all[0]?.kid);
      expect(await backing.storedKids()).toHaveLength(1);
    });

    it('FR-AUTH-001: a token signed with signJwt carries the kid and verifies against createLocalJWKSet(publicJwks())', async () => {
      const clock = new TestClock();
      const store = (await makeBacking(clock)).open();
      const key = await store.current();
      const token = await sign(store, clock);
      const { protectedHeader, payload } = await verifyWith(store, token, clock);
      expect(protectedHeader).toEqual({ alg: 'ES256', kid: key.kid, typ: 'at+jwt' });
      expect(payload.sub).toBe('user-1');
    });

    it('NFR-SEC-004 / CON-SEC-006: rotation without downtime; the old key is published until retireAfter, then unpublished and destroyed', async () => {
      const clock = new TestClock();
      const backing = await makeBacking(clock);
      const store = backing.open();
      const old = await store.current();
      const before = await sign(store, clock);

      clock.advance(10);
      const rotated = await store.rotate(clock.now());
      expect(rotated.previousKid).toBe(old.kid);
      expect(rotated.kid).not.toBe(old.kid);
      expect((await store.current()).kid).toBe(rotated.kid);

      const after = await sign(store, clock);
      expect((await verifyWith(store, after, clock)).protectedHeader.kid).toBe(rotated.kid);
      // The token signed before the rotation still verifies: the previous key is still published.
      expect((await verifyWith(store, before, clock)).protectedHeader.kid).toBe(old.kid);
      expect(await kidsOf(store)).toEqual([old.kid, rotated.kid].sort());

      clock.advance(RETAIN_SECONDS - 1);
      expect(await kidsOf(store)).toContain(old.kid);
      clock.advance(2);
      expect(await kidsOf(store)).toEqual([rotated.kid]);
      expect(await kidsOf(backing.open())).toEqual([rotated.kid]);
      // Unpublished, but still stored until the next write; the next rotation destroys it.
      const third = await store.rotate(clock.now());
      expect((await backing.storedKids()).sort()).toEqual([rotated.kid, third.kid].sort());
      expect(await kidsOf(store)).toEqual([rotated.kid, third.kid].sort());
    });

    it('NFR-SEC-004: with no key yet, rotate() creates the first one (previousKid null)', async () => {
      const clock = new TestClock();
      const backing = await makeBacking(clock);
      const store = backing.open();
      const created = await store.rotate(clock.now());
      expect(created.previousKid).toBeNull();
      expect((await store.current()).kid).toBe(created.kid);
      expect(await backing.storedKids()).toEqual([created.kid]);
    });

    it('CON-SEC-006: two concurrent rotations from two environments: exactly one wins, the other gets ConflictError and writes nothing', async () => {
      const clock = new TestClock();
      const backing = await makeBacking(clock);
      const a = backing.open();
      const b = backing.open();
      const original = (await a.current()).kid;
      expect((await b.current()).kid).toBe(original);

      gate.arm(2);
      const outcomes = await Promise.allSettled([a.rotate(clock.now()), b.rotate(clock.now())]);
      expect(gate.state.met).toBe(true);
      const won = outcomes.filter((o) => o.status === 'fulfilled');
      const lost = outcomes.filter((o) => o.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0]?.reason).toBeInstanceOf(ConflictError);
      expect((lost[0]?.reason as AppError).code).toBe('ERR-VAL-409');
      const winner = (won[0] as PromiseFulfilledResult<{ kid: string; previousKid: string | null }>).value;
      expect(winner.previousKid).toBe(original);
      // The loser's key never reached storage.
      expect((await backing.storedKids()).sort()).toEqual([original, winner.kid].sort());
      expect((await backing.open().current()).kid).toBe(winner.kid);
    });

    it('CON-SEC-006: two concurrent rotations in the same environment: exactly one wins', async () => {
      const clock = new TestClock();
      const backing = await makeBacking(clock);
      const store = backing.open();
      await store.current();
      gate.arm(2);
      const outcomes = await Promise.allSettled([store.rotate(clock.now()), store.rotate(clock.now())]);
      expect(gate.state.met).toBe(true);
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      expect(outcomes.filter((o) => o.status === 'rejected').map((o) => (o as PromiseRejectedResult).reason)).toEqual([expect.any(ConflictError)]);
      expect(await backing.storedKids()).toHaveLength(2);
    });

    it('NFR-SEC-004: concurrent first use in two environments creates exactly one key', async () => {
      const clock = new TestClock();
      const backing = await makeBacking(clock);
      gate.arm(2);
      const [ka, kb] = await Promise.all([backing.open().current(), backing.open().current()]);
      expect(gate.state.met).toBe(true);
      expect(ka.kid).toBe(kb.kid);
      expect(await backing.storedKids()).toEqual([ka.kid]);
    });

    it('NFR-SEC-004: staged rotation publishes the new key at once and signs with it only from activatesAt, in every environment; the old key stays published for the retention after that', async () => {
      const clock = new TestClock();
      const backing = await makeBacking(clock, LEAD_SECONDS);
      const a = backing.open();
      const b = backing.open();
      const old = (await a.current()).kid;
      expect((await b.current()).kid).toBe(old);

      const staged = await a.rotate(clock.now());
      expect(staged.previousKid).toBe(old);
      expect(staged.activatesAt).toBe(new Date(clock.now().getTime() + LEAD_SECONDS * 1000).toISOString());
      // Published at once (also by an environment that has not seen the rotation yet, after its refresh)...
      expect(await kidsOf(a)).toEqual([old, staged.kid].sort());
      clock.advance(SIGNING_KEY_REFRESH_SECONDS + 1);
      expect(await kidsOf(b)).toEqual([old, staged.kid].sort());
      // ...but not signing: tokens still carry the old kid everywhere.
      expect((await a.current()).kid).toBe(old);
      expect((await b.current()).kid).toBe(old);

      clock.advance(LEAD_SECONDS - SIGNING_KEY_REFRESH_SECONDS - 2);
      expect((await a.current()).kid).toBe(old);
      const beforeSwitch = await sign(b, clock);
      expect(decodeProtectedHeader(beforeSwitch).kid).toBe(old);
      clock.advance(1); // activatesAt: every environment switches by its clock, nothing is written
      expect((await a.current()).kid).toBe(staged.kid);
      expect((await b.current()).kid).toBe(staged.kid);
      const afterSwitch = await sign(b, clock);
      expect((await verifyWith(a, afterSwitch, clock)).protectedHeader.kid).toBe(staged.kid);
      expect((await verifyWith(a, beforeSwitch, clock)).protectedHeader.kid).toBe(old);

      clock.advance(RETAIN_SECONDS - 1);
      expect(await kidsOf(backing.open())).toEqual([old, staged.kid].sort());
      clock.advance(2);
      expect(await kidsOf(backing.open())).toEqual([staged.kid]);
      // The next write settles the records and destroys the retired key.
      const third = await a.rotate(clock.now());
      expect(third.previousKid).toBe(staged.kid);
      expect((await backing.storedKids()).sort()).toEqual([staged.kid, third.kid].sort());
      expect((await backing.open().current()).kid).toBe(staged.kid);
    });

    it('NFR-SEC-004: a staged rotation while another is pending is refused (ERR-VAL-409, nothing written); an immediate one replaces the pending key and signs at once', async () => {
      const clock = new TestClock();
      const backing = await makeBacking(clock, LEAD_SECONDS);
      const store = backing.open();
      const old = (await store.current()).kid;
      const staged = await store.rotate(clock.now());
      clock.advance(10);

      const refused = await store.rotate(clock.now()).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(ConflictError);
      expect((refused as AppError).code).toBe('ERR-VAL-409');
      expect((await backing.storedKids()).sort()).toEqual([old, staged.kid].sort());

      // A suspected compromise: the new key signs now, the pending one never signed and is destroyed.
      const urgent = await store.rotate(clock.now(), { immediate: true });
      expect(urgent.previousKid).toBe(old);
      expect(urgent.activatesAt).toBe(clock.now().toISOString());
      expect((await store.current()).kid).toBe(urgent.kid);
      expect((await backing.open().current()).kid).toBe(urgent.kid);
      expect((await backing.storedKids()).sort()).toEqual([old, urgent.kid].sort());
      expect(await kidsOf(backing.open())).toEqual([old, urgent.kid].sort());
      // Nothing is pending any more: a staged rotation is allowed again.
      await expect(store.rotate(clock.now())).resolves.toMatchObject({ previousKid: urgent.kid });
    });

    it('NFR-SEC-004: a compromise: an immediate rotation with retirePrevious destroys every older key, so their tokens stop verifying at once', async () => {
      const clock = new TestClock();
      const backing = await makeBacking(clock, LEAD_SECONDS);
      const store = backing.open();
      const old = (await store.current()).kid;
      const before = await sign(store, clock);
      const staged = await store.rotate(clock.now());
      const urgent = await store.rotate(clock.now(), { immediate: true, retirePrevious: true });
      expect(urgent.previousKid).toBe(old);
      expect(await backing.storedKids()).toEqual([urgent.kid]);
      expect(await kidsOf(backing.open())).toEqual([urgent.kid]);
      expect((await backing.open().current()).kid).toBe(urgent.kid);
      await expect(verifyWith(store, before, clock)).rejects.toThrow();
      expect(staged.kid).not.toBe(urgent.kid);
    });

    it(`NFR-SEC-004: another environment sees a rotation (within ${SIGNING_KEY_REFRESH_SECONDS} s) and its tokens keep verifying meanwhile`, async () => {
      const clock = new TestClock();
      const backing = await makeBacking(clock);
      const a = backing.open();
      const b = backing.open();
      const old = (await b.current()).kid;
      await b.publicJwks();
      const { kid: next } = await a.rotate(clock.now());

      // Whatever b signs with in the meantime verifies against the JWKS a publishes.
      const fromB = await sign(b, clock);
      await expect(verifyWith(a, fromB, clock)).resolves.toBeDefined();

      clock.advance(SIGNING_KEY_REFRESH_SECONDS + 1);
      expect((await b.current()).kid).toBe(next);
      expect(await kidsOf(b)).toEqual([old, next].sort());
      const later = await sign(b, clock);
      expect((await verifyWith(a, later, clock)).protectedHeader.kid).toBe(next);
    });
  });
}

// ---------------------------------------------------------------------------------------------------
// Local adapter: the key file

function fileBacking(): MakeBacking {
  return async (clock, leadSeconds = 0) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cp-signing-'));
    return {
      open: () => new FileSigningKeyStore({ dataDir, retainPreviousSeconds: RETAIN_SECONDS, publishLeadSeconds: leadSeconds, clock: clock.now }),
      storedKids: async () => {
        try {
          const file = JSON.parse(readFileSync(join(dataDir, SIGNING_KEYS_FILE), 'utf8')) as { keys: { kid: string }[] };
          return file.keys.map((k) => k.kid);
        } catch {
          return [];
        }
      },
    };
  };
}

signingKeyStoreContract('FileSigningKeyStore', fileBacking());

describe('FileSigningKeyStore: the key file', () => {
  it('NFR-SEC-004: keys live in <dataDir>/signing-keys.json, mode 0600, with no temporary or lock file left behind', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cp-signing-'));
    const store = new FileSigningKeyStore({ dataDir, retainPreviousSeconds: RETAIN_SECONDS, publishLeadSeconds: 0 });
    const key = await store.current();
    await store.rotate(new Date());
    expect(readdirSync(dataDir)).toEqual([SIGNING_KEYS_FILE]);
    expect(statSync(join(dataDir, SIGNING_KEYS_FILE)).mode & 0o777).toBe(0o600);
    const file = JSON.parse(readFileSync(join(dataDir, SIGNING_KEYS_FILE), 'utf8')) as { keys: Record<string, unknown>[] };
    expect(file.keys.map((k) => [k['kid'], k['status'], typeof k['retireAfter']])).toEqual([
      [key.kid, 'previous', 'string'],
      [expect.any(String), 'current', 'object'],
    ]);
    expect(file.keys[0]).toMatchObject({ privateJwk: { kty: 'EC', crv: 'P-256', d: expect.any(String) }, createdAt: expect.any(String) });
  });

  it('NFR-SEC-004: a rotation by another process is seen at once (the file changed), without waiting for any interval', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cp-signing-'));
    const a = new FileSigningKeyStore({ dataDir, retainPreviousSeconds: RETAIN_SECONDS, publishLeadSeconds: 0 });
    const b = new FileSigningKeyStore({ dataDir, retainPreviousSeconds: RETAIN_SECONDS, publishLeadSeconds: 0 });
    await b.current();
    const { kid } = await a.rotate(new Date());
    expect((await b.current()).kid).toBe(kid);
  });

  it('NFR-SEC-004: a corrupt key file is refused, never silently replaced (that would invalidate every token issued)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cp-signing-'));
    writeFileSync(join(dataDir, SIGNING_KEYS_FILE), '{"version":1,"keys":[{"kid":"x"}]}', { mode: 0o600 });
    const store = new FileSigningKeyStore({ dataDir, retainPreviousSeconds: RETAIN_SECONDS, publishLeadSeconds: 0 });
    const err = await store.current().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('ERR-SYS-500');
    expect(readFileSync(join(dataDir, SIGNING_KEYS_FILE), 'utf8')).toBe('{"version":1,"keys":[{"kid":"x"}]}');
  });

  it('NFR-SEC-004: a key file written before staged rotation (no activatesAt) keeps working and rotates', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'cp-signing-'));
    const first = new FileSigningKeyStore({ dataDir, retainPreviousSeconds: RETAIN_SECONDS, publishLeadSeconds: 0 });
    const { kid } = await first.current();
    const path = join(dataDir, SIGNING_KEYS_FILE);
    const file = JSON.parse(readFileSync(path, 'utf8')) as { keys: Record<string, unknown>[] };
    for (const k of file.keys) delete k['activatesAt'];
    writeFileSync(path, JSON.stringify(file), { mode: 0o600 });

    const store = new FileSigningKeyStore({ dataDir, retainPreviousSeconds: RETAIN_SECONDS, publishLeadSeconds: LEAD_SECONDS });
    expect((await store.current()).kid).toBe(kid);
    const staged = await store.rotate(new Date());
    expect(staged.previousKid).toBe(kid);
    expect((await store.current()).kid).toBe(kid);
    expect(await kidsOf(store)).toEqual([kid, staged.kid].sort());
  });
});

// ---------------------------------------------------------------------------------------------------
// AWS adapter: DynamoDB Local + a fake KMS that really encrypts

const mockKms = (kms: KMSClient) => mockClient(kms);
type KmsMock = ReturnType<typeof mockKms>;

const KEY_ARN = 'arn:aws:kms:eu-central-1:111122223333:key/0f5a3c1e-1111-4222-8333-444455556666';
const KEY_ALIAS = 'alias/token-signing';

/**
 * Symmetric KMS as far as this adapter needs it. The ciphertext names the key it was made under and is
 * AES-256-GCM with the encryption context as AAD, so Decrypt with a different context (or a ciphertext
 * moved to another kid) fails like real KMS, with InvalidCiphertextException.
 */
class FakeKms {
  private readonly master = randomBytes(32);

  client(): { kms: KMSClient; mock: KmsMock } {
    const kms = new KMSClient({ region: 'eu-central-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const mock = mockKms(kms);
    mock.on(EncryptCommand).callsFake((input: EncryptCommandInput) => this.encrypt(input));
    mock.on(DecryptCommand).callsFake((input: DecryptCommandInput) => this.decrypt(input));
    return { kms, mock };
  }

  private resolve(keyId: string | undefined): string {
    if (keyId === KEY_ARN || keyId === KEY_ALIAS) return KEY_ARN;
    throw new NotFoundException({ message: `key ${String(keyId)} does not exist`, $metadata: {} });
  }

  private static aad(context: Record<string, string> | undefined): Buffer {
    return Buffer.from(JSON.stringify(Object.entries(context ?? {}).sort(([a], [b]) => a.localeCompare(b))));
  }

  encrypt(input: EncryptCommandInput): { CiphertextBlob: Uint8Array; KeyId: string } {
    const keyArn = this.resolve(input.KeyId);
    if (!(input.Plaintext instanceof Uint8Array)) throw new Error('fake KMS: Plaintext must be bytes');
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.master, iv);
    cipher.setAAD(FakeKms.aad(input.EncryptionContext));
    const body = Buffer.concat([cipher.update(input.Plaintext), cipher.final()]);
    const arn = Buffer.from(keyArn);
    const header = Buffer.alloc(2);
    header.writeUInt16BE(arn.length);
    return { CiphertextBlob: Buffer.concat([header, arn, iv, cipher.getAuthTag(), body]), KeyId: keyArn };
  }

  decrypt(input: DecryptCommandInput): { Plaintext: Uint8Array; KeyId: string } {
    const blob = Buffer.from(input.CiphertextBlob ?? new Uint8Array());
    const arnLength = blob.readUInt16BE(0);
    const keyArn = blob.subarray(2, 2 + arnLength).toString();
    if (input.KeyId !== undefined && this.resolve(input.KeyId) !== keyArn) {
      throw new IncorrectKeyException({ message: 'the ciphertext was not made under this key', $metadata: {} });
    }
    const iv = blob.subarray(2 + arnLength, 14 + arnLength);
    const tag = blob.subarray(14 + arnLength, 30 + arnLength);
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.master, iv);
      decipher.setAAD(FakeKms.aad(input.EncryptionContext));
      decipher.setAuthTag(tag);
      return { Plaintext: Buffer.concat([decipher.update(blob.subarray(30 + arnLength)), decipher.final()]), KeyId: keyArn };
    } catch {
      throw new InvalidCiphertextException({ message: 'invalid ciphertext', $metadata: {} });
    }
  }
}

const endpoint = (): string => inject('dynamoEndpoint');

async function freshTable(): Promise<{ db: DynamoDBDocumentClient; tableName: string }> {
  const tableName = `signing-keys-${randomUUID()}`;
  await ensureTable(new DynamoDBClient({ endpoint: endpoint(), region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }), tableName);
  return { db: createDocumentClient({ endpoint: endpoint(), region: 'local' }), tableName };
}

async function partitionItems(db: DynamoDBDocumentClient, tableName: string): Promise<Record<string, unknown>[]> {
  const out = await db.send(
    new QueryCommand({ TableName: tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': keys.signingKeyPartition }, ConsistentRead: true }),
  );
  return out.Items ?? [];
}

interface KmsEnv {
  readonly db: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly fake: FakeKms;
  readonly clock: TestClock;
  /** A store with a KMS client of its own, so calls can be counted per execution environment. */
  open(keyId?: string): { store: KmsWrappedSigningKeyStore; mock: KmsMock };
}

async function kmsEnv(clock = new TestClock(), leadSeconds = 0): Promise<KmsEnv> {
  const { db, tableName } = await freshTable();
  const fake = new FakeKms();
  return {
    db,
    tableName,
    fake,
    clock,
    open(keyId = KEY_ARN) {
      const { kms, mock } = fake.client();
      return { store: new KmsWrappedSigningKeyStore({ db, tableName, kms, keyId, retainPreviousSeconds: RETAIN_SECONDS, publishLeadSeconds: leadSeconds, clock: clock.now }), mock };
    },
  };
}

signingKeyStoreContract('KmsWrappedSigningKeyStore (DynamoDB Local, fake KMS)', async (clock, leadSeconds) => {
  const env = await kmsEnv(clock, leadSeconds);
  return {
    open: () => env.open().store,
    storedKids: async () => (await partitionItems(env.db, env.tableName)).filter((i) => i['entity'] === 'SigningKey').map((i) => String(i['kid'])),
  };
});

describe('KmsWrappedSigningKeyStore: KMS use (ADR-0005 option b)', () => {
  it('the fake KMS is strict: Decrypt under a different encryption context or key fails', () => {
    const fake = new FakeKms();
    const { CiphertextBlob } = fake.encrypt({ KeyId: KEY_ARN, Plaintext: Buffer.from('secret'), EncryptionContext: { purpose: 'token-signing', kid: 'a' } });
    expect(Buffer.from(fake.decrypt({ CiphertextBlob, EncryptionContext: { purpose: 'token-signing', kid: 'a' } }).Plaintext).toString()).toBe('secret');
    expect(() => fake.decrypt({ CiphertextBlob, EncryptionContext: { purpose: 'token-signing', kid: 'b' } })).toThrow(InvalidCiphertextException);
    expect(() => fake.decrypt({ CiphertextBlob })).toThrow(InvalidCiphertextException);
    expect(() => fake.decrypt({ CiphertextBlob, KeyId: 'alias/other', EncryptionContext: { purpose: 'token-signing', kid: 'a' } })).toThrow(NotFoundException);
  });

  it('CON-SEC-006: create and rotate each Encrypt once under the configured key with context {purpose: token-signing, kid}; the table holds no plaintext private key', async () => {
    const env = await kmsEnv();
    const { store, mock } = env.open(KEY_ALIAS);
    const first = await store.current();
    const second = await store.rotate(env.clock.now());

    const encrypts = mock.commandCalls(EncryptCommand).map((c) => c.args[0].input);
    expect(encrypts.map((i) => [i.KeyId, i.EncryptionContext])).toEqual([
      [KEY_ALIAS, { purpose: 'token-signing', kid: first.kid }],
      [KEY_ALIAS, { purpose: 'token-signing', kid: second.kid }],
    ]);

    const items = await partitionItems(env.db, env.tableName);
    const keyItems = items.filter((i) => i['entity'] === 'SigningKey');
    expect(keyItems).toHaveLength(2);
    expect(items.find((i) => i['SK'] === 'CURRENT')).toMatchObject({ entity: 'SigningKeyPointer', kid: second.kid });
    for (const item of keyItems) {
      // The alias resolves to the key's ARN, which is what Decrypt will be pinned to.
      expect(item).toMatchObject({ PK: 'PLATFORM#SIGNINGKEY', SK: `SIGNINGKEY#${String(item['kid'])}`, wrappingKeyId: KEY_ARN, publicJwk: { kty: 'EC', crv: 'P-256' } });
      expect(item['publicJwk']).not.toHaveProperty('d');
      // The private scalar only exists inside the ciphertext.
      const plain = env.fake.decrypt({ CiphertextBlob: Buffer.from(String(item['ciphertext']), 'base64'), EncryptionContext: { purpose: 'token-signing', kid: String(item['kid']) } });
      const d = (JSON.parse(Buffer.from(plain.Plaintext).toString()) as { d: string }).d;
      expect(d).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(JSON.stringify(items)).not.toContain(d);
    }
    expect(keyItems.find((i) => i['kid'] === first.kid)).toMatchObject({ status: 'previous', retireAfter: expect.any(String), ttl: expect.any(Number) });
    expect(keyItems.find((i) => i['kid'] === second.kid)).toMatchObject({ status: 'current', retireAfter: null });
  });

  it('NFR-PERF-004: a staged rotation refused because another is pending makes no KMS call and writes nothing', async () => {
    const env = await kmsEnv(new TestClock(), 600);
    const { store, mock } = env.open();
    await store.current();
    await store.rotate(env.clock.now());
    const before = await partitionItems(env.db, env.tableName);
    mock.resetHistory();
    await expect(store.rotate(env.clock.now())).rejects.toBeInstanceOf(ConflictError);
    await expect(store.rotate(env.clock.now(), { retirePrevious: true })).rejects.toBeInstanceOf(ValidationError);
    expect(mock.calls()).toHaveLength(0);
    expect(await partitionItems(env.db, env.tableName)).toEqual(before);
  });

  it('NFR-PERF-004: exactly one Decrypt per kid per execution environment across many current() calls; none for publicJwks()', async () => {
    const env = await kmsEnv();
    const a = env.open();
    const b = env.open();

    // JWKS first, in an environment that never signs: no Decrypt at all.
    await env.open().store.current(); // creates the key (in an environment of its own)
    await a.store.publicJwks();
    expect(a.mock.commandCalls(DecryptCommand)).toHaveLength(0);

    const burst = await Promise.all(Array.from({ length: 200 }, () => a.store.current()));
    for (let i = 0; i < 100; i++) await a.store.current();
    env.clock.advance(SIGNING_KEY_REFRESH_SECONDS + 1); // a metadata refresh; the kid is unchanged
    for (let i = 0; i < 100; i++) await a.store.current();
    await a.store.publicJwks();
    const decrypts = a.mock.commandCalls(DecryptCommand).map((c) => c.args[0].input);
    expect(decrypts).toHaveLength(1);
    expect(decrypts[0]).toMatchObject({ KeyId: KEY_ARN, EncryptionContext: { purpose: 'token-signing', kid: burst[0]?.kid } });
    expect(a.mock.commandCalls(EncryptCommand)).toHaveLength(0);

    // Another environment pays its own single Decrypt.
    await Promise.all(Array.from({ length: 50 }, () => b.store.current()));
    expect(b.mock.commandCalls(DecryptCommand)).toHaveLength(1);

    // A rotation elsewhere: one more Decrypt, for the new kid only, once the refresh interval has passed.
    const { kid: next } = await b.store.rotate(env.clock.now());
    expect((await a.store.current()).kid).toBe(burst[0]?.kid);
    env.clock.advance(SIGNING_KEY_REFRESH_SECONDS + 1);
    for (let i = 0; i < 100; i++) expect((await a.store.current()).kid).toBe(next);
    expect(a.mock.commandCalls(DecryptCommand).map((c) => c.args[0].input.EncryptionContext?.['kid'])).toEqual([burst[0]?.kid, next]);
  });

  it('NFR-SEC-005: a ciphertext moved to another kid\u2019s record does not decrypt (the encryption context binds it to its kid)', async () => {
    const env = await kmsEnv();
    const { store } = env.open();
    const first = await store.current();
    const { kid: second } = await store.rotate(env.clock.now());
    const read = async (kid: string) =>
      (await env.db.send(new GetCommand({ TableName: env.tableName, Key: keys.signingKey(kid), ConsistentRead: true }))).Item ?? {};
    const firstItem = await read(first.kid);
    await env.db.send(new PutCommand({ TableName: env.tableName, Item: { ...(await read(second)), ciphertext: firstItem['ciphertext'] } }));

    const err = await env.open().store.current().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('ERR-SYS-500');
    expect((err as Error).message).toContain('InvalidCiphertextException');
  });

  it('CON-SEC-006: a rotation cancelled only by a TransactionConflict is retried; one that keeps conflicting ends in ConflictError', async () => {
    const env = await kmsEnv();
    const { store } = env.open();
    const { kid: original } = await store.current();
    const send = env.db.send.bind(env.db);
    let conflictsLeft = 1;
    const transactions: unknown[] = [];
    const spy = vi.spyOn(env.db, 'send').mockImplementation(((command: unknown) => {
      if (command instanceof TransactWriteCommand) {
        transactions.push(command);
        if (conflictsLeft-- > 0) {
          return Promise.reject(
            new TransactionCanceledException({ message: 'conflict', $metadata: {}, CancellationReasons: [{ Code: 'None' }, { Code: 'TransactionConflict' }, { Code: 'None' }] }),
          );
        }
      }
      return send(command as Parameters<typeof send>[0]);
    }) as unknown as typeof env.db.send);
    try {
      const rotated = await store.rotate(env.clock.now());
      expect(rotated.previousKid).toBe(original);
      expect(transactions).toHaveLength(2);

      conflictsLeft = 100;
      transactions.length = 0;
      const err = await store.rotate(env.clock.now()).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConflictError);
      expect(transactions).toHaveLength(4);
    } finally {
      spy.mockRestore();
    }
  });

  it('NFR-PERF-004: a failed metadata refresh keeps the key in hand for a while instead of failing logins, then gives up', async () => {
    const env = await kmsEnv();
    const { store } = env.open();
    const { kid } = await store.current();
    const send = vi.spyOn(env.db, 'send').mockRejectedValue(Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' }));
    try {
      env.clock.advance(SIGNING_KEY_REFRESH_SECONDS + 1);
      expect((await store.current()).kid).toBe(kid);
      expect(send).toHaveBeenCalled();
      env.clock.advance(5 * 60);
      const err = await store.current().catch((e: unknown) => e);
      expect((err as AppError).code).toBe('ERR-SYS-503');
    } finally {
      send.mockRestore();
    }
    expect((await store.current()).kid).toBe(kid);
  });
});
