/**
 * AWS SigningKeyStore (ADR-0005, option b): ES256 key pairs whose private half is stored only encrypted
 * under a symmetric KMS key, decrypted once per execution environment and kept in memory as a
 * non-extractable CryptoKey, so signing costs no KMS call and no network hop.
 *
 * Table layout (partition SIGNING_KEY_PARTITION, key builders in shared/adapters/dynamo/keys.ts):
 * - one item per kid: public JWK, KMS ciphertext of the private JWK (base64), state, times;
 * - one pointer item naming the current kid and a staged rotation's next kid. Rotation is one
 *   TransactWriteItems that writes what planRotation (shared/domain/identity/key-rotation.ts) changed:
 *   the new key, the records whose state changed, the deletion of retired keys, and the pointer, on the
 *   condition that it still names the current and next kids the rotation started from, so two
 *   concurrent rotations cannot both win. A next key starts to sign at its activatesAt without any write.
 *
 * The encryption context `{ purpose: 'token-signing', kid }` binds each ciphertext to its kid (a
 * ciphertext moved to another item does not decrypt) and is what the key policy's Decrypt condition
 * matches (NFR-SEC-005). Key material never appears in an error, a log line or an item in plaintext.
 */
import { DecryptCommand, EncryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import { GetCommand, QueryCommand, type DynamoDBDocumentClient, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import type { JWK } from 'jose';
import { z } from 'zod';
import { TABLE_SCHEMA } from '../../config/constants';
import { AppError, ConflictError, InternalError, UnavailableError } from '../../domain/errors';
import { generateSigningKey, importSigningKey, publishedJwk, type Es256PrivateJwk, type GeneratedSigningKey } from '../../domain/identity/jwt';
import { assertRotationAllowed, planRotation, publishedAt, signingKidAt, type RotationOptions, type RotationOutcome } from '../../domain/identity/key-rotation';
import type { ActiveSigningKey, SigningKeyStore } from '../../domain/identity/ports';
import { translateDynamoError, type NamedCondition } from '../dynamo/errors';
import { keys } from '../dynamo/keys';
import { transactWrite } from '../dynamo/transact';

export interface KmsWrappedSigningKeyStoreOptions {
  readonly db: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly kms: KMSClient;
  /** The symmetric wrapping key (id, ARN or alias) new keys are encrypted under. */
  readonly keyId: string;
  /** How long a replaced key stays published: at least the longest token lifetime plus clock skew. */
  readonly retainPreviousSeconds: number;
  /**
   * How long a new key is published before it signs (staged rotation): at least the JWKS cache lifetime
   * plus SIGNING_KEY_REFRESH_SECONDS.
   */
  readonly publishLeadSeconds: number;
  readonly clock?: () => Date;
}

/**
 * How stale this environment's view of the key records may get. A rotation elsewhere is picked up within
 * this interval; it must stay shorter than the publication lead time of a new key (publishLeadSeconds).
 */
export const SIGNING_KEY_REFRESH_SECONDS = 60;
/** When a refresh fails but a view is in hand, keep signing with it and retry after this long. */
const RETRY_AFTER_FAILURE_MS = 5_000;
/** ...but never sign from a view older than this: by then a missed rotation may have retired our key. */
const MAX_STALE_MS = 5 * 60_000;

export const SIGNING_KEY_PURPOSE = 'token-signing';

const ENTITY = { key: 'SigningKey', pointer: 'SigningKeyPointer' } as const;

const b64url = z.string().regex(/^[A-Za-z0-9_-]+$/);
const publicJwkSchema = z.object({ kty: z.literal('EC'), crv: z.literal('P-256'), x: b64url, y: b64url });
const keyItemSchema = z.object({
  entity: z.literal(ENTITY.key),
  kid: b64url,
  publicJwk: publicJwkSchema,
  ciphertext: z.string().min(1),
  /** The KMS key ARN that Encrypt reported, so an alias later pointed elsewhere still decrypts old keys. */
  wrappingKeyId: z.string().min(1),
  status: z.enum(['current', 'previous', 'next']),
  createdAt: z.iso.datetime(),
  retireAfter: z.iso.datetime().nullable(),
  /** When a next key starts to sign; absent on items written before staged rotation. */
  activatesAt: z.iso.datetime().nullable().default(null),
});
const pointerItemSchema = z.object({
  entity: z.literal(ENTITY.pointer),
  kid: b64url,
  /** A staged rotation's next key, until the next write settles it. */
  nextKid: b64url.optional(),
  updatedAt: z.iso.datetime(),
});
type KeyRecord = z.infer<typeof keyItemSchema>;

function decode<T>(schema: z.ZodType<T>, item: unknown, what: string): T {
  const parsed = schema.safeParse(item);
  // Paths only, never values: the item holds a ciphertext, and the message reaches the logs.
  if (!parsed.success) throw new InternalError(`corrupt ${what} item: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`);
  return parsed.data;
}

/** The key records as read at one moment. */
interface View {
  /** The pointer's current and next kids: what a rotation compares to detect a concurrent one. */
  readonly currentKid: string | null;
  readonly nextKid: string | null;
  readonly records: ReadonlyMap<string, KeyRecord>;
  readonly readAt: number;
  /** When the next call should re-read: readAt + refresh interval, or sooner after a failed refresh. */
  refreshAt: number;
}

const KMS_UNAVAILABLE = new Set(['ThrottlingException', 'KMSInternalException', 'DependencyTimeoutException', 'KeyUnavailableException', 'LimitExceededException']);

function translateKmsError(err: unknown, operation: 'Encrypt' | 'Decrypt'): AppError {
  if (err instanceof AppError) return err;
  const name = err instanceof Error ? err.name : 'unknown';
  if (KMS_UNAVAILABLE.has(name)) return new UnavailableError(`kms ${operation} ${name}`, err);
  // AccessDenied, InvalidCiphertext (wrong context/kid), IncorrectKey, Disabled...: a misconfiguration
  // or tampering, not a transient fault. CloudTrail has the details (NFR-MON-001).
  return new InternalError(`kms ${operation} failed: ${name}`, err);
}

export class KmsWrappedSigningKeyStore implements SigningKeyStore {
  private readonly clock: () => Date;
  private view: View | undefined;
  private loading: Promise<View> | undefined;
  private generation = 0;
  private bootstrapping: Promise<void> | undefined;
  /** kid → its imported key. Only kids this environment signed with; the old one is dropped on rotation. */
  private readonly signers = new Map<string, Promise<ActiveSigningKey>>();

  constructor(private readonly options: KmsWrappedSigningKeyStoreOptions) {
    if (!Number.isFinite(options.retainPreviousSeconds) || options.retainPreviousSeconds < 0) {
      throw new RangeError('retainPreviousSeconds must be a non-negative number');
    }
    if (!Number.isFinite(options.publishLeadSeconds) || options.publishLeadSeconds < 0) {
      throw new RangeError('publishLeadSeconds must be a non-negative number');
    }
    this.clock = options.clock ?? (() => new Date());
  }

  async current(): Promise<ActiveSigningKey> {
    let view = await this.currentView();
    // Cold start of a fresh stage: whoever comes first creates the key, everyone else reads it. A second
    // attempt covers a TransactionConflict, where the other writer may have lost as well.
    for (let attempt = 0; view.currentKid === null && attempt < 2; attempt++) {
      // invalidate(): a read that started before the key was written must not answer the re-read below.
      this.bootstrapping ??= this.createFirst()
        .then(() => this.invalidate())
        .finally(() => (this.bootstrapping = undefined));
      await this.bootstrapping;
      view = await this.refresh();
    }
    // The next key signs from its activation time on: every environment switches by its own clock.
    const kid = signingKidAt([...view.records.values()], this.clock().getTime()) ?? view.currentKid;
    const record = kid === null ? undefined : view.records.get(kid);
    if (kid === null || record === undefined) throw new InternalError('no current signing key after creating one');
    let signer = this.signers.get(kid);
    if (signer === undefined) {
      signer = this.decrypt(record);
      this.signers.set(kid, signer);
      // A failed Decrypt must not stick: the next call retries instead of failing until the next cold start.
      signer.catch(() => {
        if (this.signers.get(kid) === signer) this.signers.delete(kid);
      });
      // Drop the plaintext of keys that no longer sign.
      for (const other of this.signers.keys()) if (other !== kid) this.signers.delete(other);
    }
    return signer;
  }

  async publicJwks(): Promise<{ keys: JWK[] }> {
    const view = await this.currentView();
    // Filtered on every call, not when cached: a retired key leaves the JWKS at its retireAfter exactly.
    return { keys: publishedAt([...view.records.values()], this.clock().getTime()).map((r) => publishedJwk(r.kid, r.publicJwk)) };
  }

  async rotate(now: Date, options: RotationOptions = {}): Promise<RotationOutcome> {
    // A fresh read, not the cached view: a stale view would only make the rotation fail its condition.
    const view = await this.refresh();
    assertRotationAllowed([...view.records.values()], now, options);
    const fresh = await this.wrap(await generateSigningKey(), now);
    if (view.currentKid === null) {
      await this.writeFirst(fresh, now, 'The signing key was created concurrently; nothing was changed.');
      this.invalidate();
      return { kid: fresh.kid, previousKid: null, activatesAt: now.toISOString() };
    }
    const before = [...view.records.values()];
    // Destruction (NFR-SEC-004): keys past retirement are not in the plan, so the transaction deletes them.
    // Their TTL would delete them too, but only within days.
    const { keys: after, outcome } = planRotation(before, fresh.record, now, { ...options, leadSeconds: this.options.publishLeadSeconds, retainSeconds: this.options.retainPreviousSeconds });
    const conflict: NamedCondition = { name: 'SigningKeyRotated', detail: 'The signing key was rotated concurrently; nothing was changed.' };
    const TableName = this.options.tableName;
    const names = { '#status': 'status' };
    type Item = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
    const items: Item[] = [];
    for (const r of after) {
      const was = view.records.get(r.kid);
      if (was === undefined) items.push({ Put: { TableName, Item: keyItem(r), ConditionExpression: 'attribute_not_exists(PK)' } });
      else if (was.status !== r.status || was.retireAfter !== r.retireAfter || was.activatesAt !== r.activatesAt) {
        // The whole record, on the condition that it is still in the state this rotation read.
        items.push({ Put: { TableName, Item: keyItem(r), ConditionExpression: '#status = :was', ExpressionAttributeNames: names, ExpressionAttributeValues: { ':was': was.status } } });
      }
    }
    for (const r of before) {
      if (!after.some((a) => a.kid === r.kid)) {
        items.push({ Delete: { TableName, Key: keys.signingKey(r.kid), ConditionExpression: '#status = :was', ExpressionAttributeNames: names, ExpressionAttributeValues: { ':was': r.status } } });
      }
    }
    const currentKid = after.find((r) => r.status === 'current')?.kid;
    const nextKid = after.find((r) => r.status === 'next')?.kid;
    if (currentKid === undefined) throw new InternalError('a rotation plan without a current key');
    items.push({
      Update: {
        TableName,
        Key: keys.signingKeyPointer(),
        UpdateExpression: nextKid === undefined ? 'SET kid = :current, updatedAt = :now REMOVE nextKid' : 'SET kid = :current, nextKid = :next, updatedAt = :now',
        ConditionExpression: view.nextKid === null ? 'kid = :expected AND attribute_not_exists(nextKid)' : 'kid = :expected AND nextKid = :expectedNext',
        ExpressionAttributeValues: {
          ':current': currentKid,
          ':now': now.toISOString(),
          ':expected': view.currentKid,
          ...(nextKid === undefined ? {} : { ':next': nextKid }),
          ...(view.nextKid === null ? {} : { ':expectedNext': view.nextKid }),
        },
      },
    });
    await transactWrite(
      this.options.db,
      items,
      items.map(() => conflict),
    );
    // This environment sees the change at once; others within SIGNING_KEY_REFRESH_SECONDS.
    this.invalidate();
    return outcome;
  }

  /** The cached view, re-read when older than the refresh interval. */
  private async currentView(): Promise<View> {
    const view = this.view;
    const now = this.clock().getTime();
    if (view !== undefined && now < view.refreshAt) return view;
    try {
      return await this.refresh();
    } catch (err) {
      // A blip in DynamoDB must not fail logins while the key in hand is certainly still published.
      if (view !== undefined && now - view.readAt < MAX_STALE_MS) {
        view.refreshAt = now + RETRY_AFTER_FAILURE_MS;
        return view;
      }
      throw err;
    }
  }

  /** One read of the partition at a time per environment, however many requests arrive together. */
  private refresh(): Promise<View> {
    if (this.loading !== undefined) return this.loading;
    const generation = this.generation;
    const loading = this.read().then((v) => {
      // A read that started before this environment rotated must not bring the old key back.
      if (generation === this.generation) this.view = v;
      return v;
    });
    this.loading = loading;
    void loading.finally(() => {
      if (this.loading === loading) this.loading = undefined;
    }).catch(() => undefined);
    return loading;
  }

  /** After a write by this environment: forget the view and any read still in flight. */
  private invalidate(): void {
    this.generation++;
    this.view = undefined;
    this.loading = undefined;
  }

  private async read(): Promise<View> {
    const records = new Map<string, KeyRecord>();
    let currentKid: string | null = null;
    let nextKid: string | null = null;
    const readAt = this.clock().getTime();
    try {
      let start: Record<string, unknown> | undefined;
      do {
        const out = await this.options.db.send(
          new QueryCommand({
            TableName: this.options.tableName,
            KeyConditionExpression: 'PK = :pk',
            ExpressionAttributeValues: { ':pk': keys.signingKeyPartition },
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        );
        for (const item of out.Items ?? []) {
          if (item['entity'] === ENTITY.pointer) {
            const pointer = decode(pointerItemSchema, item, 'signing key pointer');
            currentKid = pointer.kid;
            nextKid = pointer.nextKid ?? null;
          } else {
            const r = decode(keyItemSchema, item, 'signing key');
            records.set(r.kid, r);
          }
        }
        start = out.LastEvaluatedKey;
      } while (start !== undefined);
      // A Query is not a snapshot across items: it may see a rotation's new pointer but not (yet) its keys.
      for (const kid of [currentKid, nextKid]) {
        if (kid === null || records.has(kid)) continue;
        const out = await this.options.db.send(new GetCommand({ TableName: this.options.tableName, Key: keys.signingKey(kid), ConsistentRead: true }));
        if (out.Item === undefined) throw new InternalError(`the signing key pointer names ${kid}, which has no record`);
        records.set(kid, decode(keyItemSchema, out.Item, 'signing key'));
      }
    } catch (err) {
      throw translateDynamoError(err);
    }
    return { currentKid, nextKid, records, readAt, refreshAt: readAt + SIGNING_KEY_REFRESH_SECONDS * 1000 };
  }

  private async createFirst(): Promise<void> {
    const now = this.clock();
    const first = await this.wrap(await generateSigningKey(), now);
    try {
      await this.writeFirst(first, now, 'first signing key raced');
    } catch (err) {
      // Another environment's cold start won; its key is the key. The caller re-reads.
      if (err instanceof ConflictError) return;
      throw err;
    }
  }

  /** The first key and the pointer, both conditional, in one transaction: a race leaves exactly one key. */
  private async writeFirst(first: Wrapped, now: Date, conflictDetail: string): Promise<void> {
    const conflict: NamedCondition = { name: 'SigningKeyExists', detail: conflictDetail };
    const TableName = this.options.tableName;
    await transactWrite(
      this.options.db,
      [
        { Put: { TableName, Item: keyItem(first.record), ConditionExpression: 'attribute_not_exists(PK)' } },
        {
          Put: {
            TableName,
            Item: { ...keys.signingKeyPointer(), entity: ENTITY.pointer, kid: first.kid, updatedAt: now.toISOString() },
            ConditionExpression: 'attribute_not_exists(PK)',
          },
        },
      ],
      [conflict, conflict],
    );
  }

  /** Encrypt the private JWK under the wrapping key; the plaintext goes out of scope right after. */
  private async wrap(key: GeneratedSigningKey, now: Date): Promise<Wrapped> {
    const plaintext = Buffer.from(JSON.stringify(key.privateJwk), 'utf8');
    let ciphertext: Uint8Array | undefined;
    let wrappingKeyId: string | undefined;
    try {
      const out = await this.options.kms.send(
        new EncryptCommand({ KeyId: this.options.keyId, Plaintext: plaintext, EncryptionContext: encryptionContext(key.kid) }),
      );
      ciphertext = out.CiphertextBlob;
      wrappingKeyId = out.KeyId;
    } catch (err) {
      throw translateKmsError(err, 'Encrypt');
    } finally {
      plaintext.fill(0);
    }
    if (ciphertext === undefined) throw new InternalError('kms Encrypt returned no ciphertext');
    const record: KeyRecord = {
      entity: ENTITY.key,
      kid: key.kid,
      publicJwk: key.publicJwk,
      ciphertext: Buffer.from(ciphertext).toString('base64'),
      wrappingKeyId: wrappingKeyId ?? this.options.keyId,
      status: 'current',
      createdAt: now.toISOString(),
      retireAfter: null,
      activatesAt: null,
    };
    return { kid: key.kid, record };
  }

  /** The one KMS call per kid per execution environment (NFR-PERF-004). */
  private async decrypt(record: KeyRecord): Promise<ActiveSigningKey> {
    let plaintext: Uint8Array | undefined;
    try {
      const out = await this.options.kms.send(
        new DecryptCommand({
          CiphertextBlob: Buffer.from(record.ciphertext, 'base64'),
          // Pinning the key means a ciphertext under any other KMS key is refused, not merely unusable.
          KeyId: record.wrappingKeyId,
          EncryptionContext: encryptionContext(record.kid),
        }),
      );
      plaintext = out.Plaintext;
    } catch (err) {
      throw translateKmsError(err, 'Decrypt');
    }
    if (plaintext === undefined) throw new InternalError('kms Decrypt returned no plaintext');
    try {
      const parsed = privateJwkSchema.safeParse(JSON.parse(Buffer.from(plaintext).toString('utf8')));
      if (!parsed.success) throw new InternalError(`decrypted signing key ${record.kid} is not an ES256 private JWK`);
      if (parsed.data.x !== record.publicJwk.x || parsed.data.y !== record.publicJwk.y) {
        throw new InternalError(`decrypted signing key ${record.kid} does not match its published public key`);
      }
      return await importSigningKey(record.kid, parsed.data);
    } catch (err) {
      // JSON.parse's message could quote the plaintext; report the kid only.
      if (err instanceof AppError) throw err;
      throw new InternalError(`decrypted signing key ${record.kid} could not be imported`);
    } finally {
      plaintext.fill(0);
    }
  }
}

interface Wrapped {
  readonly kid: string;
  readonly record: KeyRecord;
}

/** A key record as stored; a replaced key carries a TTL as the backstop of its destruction. */
function keyItem(r: KeyRecord): Record<string, unknown> {
  return { ...keys.signingKey(r.kid), ...r, ...(r.retireAfter === null ? {} : { [TABLE_SCHEMA.ttlAttribute]: Math.ceil(Date.parse(r.retireAfter) / 1000) }) };
}

const privateJwkSchema: z.ZodType<Es256PrivateJwk> = publicJwkSchema.extend({ d: b64url });

function encryptionContext(kid: string): Record<string, string> {
  return { purpose: SIGNING_KEY_PURPOSE, kid };
}
