/**
 * The life of a token-signing key (ADR-0005): next → current → previous → destroyed, as pure functions
 * over the key records, shared by both SigningKeyStore adapters so that the file and the table agree.
 *
 * - *next*: published in the JWKS, not yet signing. A staged rotation creates the new key in this state
 *   with `activatesAt` = now + the publication lead (≥ one JWKS cache lifetime plus the adapters' refresh
 *   interval), so relying parties that cache the JWKS already hold the key when the first token signed
 *   with it arrives.
 * - From `activatesAt` on, the next key signs. No write marks that moment: every execution environment
 *   reads the same `activatesAt` and switches by its own clock. The records are settled (next → current,
 *   current → previous) by the next write, which is the next rotation.
 * - *previous*: no longer signs; published until `retireAfter` (activation + retention ≥ the longest
 *   token lifetime), then unpublished, and destroyed by the next write.
 * - An immediate rotation (a suspected compromise) makes the new key sign at once and discards a pending
 *   next key, which never signed anything.
 */
import { ConflictError, ValidationError } from '../errors';

/** The JWKS endpoint's `Cache-Control: max-age`: how long a relying party may reuse the key set it read. */
export const JWKS_MAX_AGE_SECONDS = 300;
/**
 * How long a staged rotation publishes the new key before it signs: one JWKS cache lifetime, plus the
 * AWS adapter's 60 s refresh of the key records (a JWKS answered from a view read just before the
 * rotation), plus margin.
 */
export const SIGNING_KEY_PUBLISH_LEAD_SECONDS = 600;

export type KeyStatus = 'current' | 'previous' | 'next';

export interface KeySlot {
  readonly kid: string;
  readonly status: KeyStatus;
  /** When the key leaves the JWKS; null while nothing has replaced it. */
  readonly retireAfter: string | null;
  /** For a next key: when it starts to sign. Null for every other state. */
  readonly activatesAt: string | null;
}

export interface RotationOptions {
  /** Sign with the new key at once (and drop a pending next key): for a suspected key compromise. */
  readonly immediate?: boolean;
  /**
   * With `immediate` only: destroy every older key at once instead of keeping it published, so tokens
   * signed with a compromised key stop verifying now. Sessions and (opaque) refresh tokens survive, so
   * clients recover by refreshing rather than by signing in again.
   */
  readonly retirePrevious?: boolean;
}

export interface RotationOutcome {
  readonly kid: string;
  /** The key that signed when the rotation was made; null when there was none. */
  readonly previousKid: string | null;
  /** When the new key signs: now for an immediate rotation or a first key, now + lead otherwise. */
  readonly activatesAt: string;
}

function at(iso: string | null): number {
  return iso === null ? Number.POSITIVE_INFINITY : Date.parse(iso);
}

/** The key that signs at `now`: the next key once its activation time has come, else the current one. */
export function signingKidAt(keys: readonly KeySlot[], now: number): string | null {
  const next = keys.find((k) => k.status === 'next');
  if (next !== undefined && at(next.activatesAt) <= now) return next.kid;
  return keys.find((k) => k.status === 'current')?.kid ?? null;
}

/** A next key that does not sign yet, if any. */
export function pendingAt<T extends KeySlot>(keys: readonly T[], now: number): T | undefined {
  return keys.find((k) => k.status === 'next' && at(k.activatesAt) > now);
}

/** The keys the JWKS shows at `now`: a next key, the signing key, and every key not yet retired. */
export function publishedAt<T extends KeySlot>(keys: readonly T[], now: number): T[] {
  const signing = signingKidAt(keys, now);
  return keys.filter((k) => k.status === 'next' || k.kid === signing || (k.retireAfter !== null && Date.parse(k.retireAfter) > now));
}

/**
 * The refusals of planRotation, on their own so that an adapter can check its view before it generates
 * (and in AWS, KMS-wraps) a key that a refused rotation would throw away. planRotation checks again on
 * the records it writes over. Returns the pending next key, if any.
 */
export function assertRotationAllowed<T extends KeySlot>(keys: readonly T[], now: Date, o: RotationOptions): T | undefined {
  if (o.retirePrevious === true && o.immediate !== true) {
    throw new ValidationError('Retiring the previous keys at once needs an immediate rotation.', [{ location: 'body', pointer: '/retirePrevious', detail: 'needs immediate: true' }]);
  }
  const pending = pendingAt(keys, now.getTime());
  if (pending !== undefined && o.immediate !== true) {
    throw new ConflictError(`A rotation is already pending: key ${pending.kid} signs from ${pending.activatesAt}. Rotate immediately to replace it.`);
  }
  return pending;
}

/**
 * The records after a rotation at `now`, with `fresh` (a new key's record, any status) as the new key.
 * Settles first: an activated next key becomes current and the key it replaced previous; retired keys are
 * left out (destruction, NFR-SEC-004). A staged rotation while another next key is still pending is
 * refused (ConflictError): the operator waits for it, or rotates immediately.
 */
export function planRotation<T extends KeySlot>(
  keys: readonly T[],
  fresh: T,
  now: Date,
  o: { readonly leadSeconds: number; readonly retainSeconds: number } & RotationOptions,
): { keys: T[]; outcome: RotationOutcome } {
  const t = now.getTime();
  const pending = assertRotationAllowed(keys, now, o);
  const signing = signingKidAt(keys, t);
  const iso = (ms: number): string => new Date(ms).toISOString();
  // Settle: the key that signs now is current, every other surviving key previous.
  const settled: T[] = [];
  for (const k of keys) {
    if (k === pending) continue; // immediate: a next key that never signed is destroyed
    if (k.kid === signing) settled.push({ ...k, status: 'current', activatesAt: null });
    else if (k.retireAfter !== null && Date.parse(k.retireAfter) > t) settled.push({ ...k, status: 'previous', activatesAt: null });
    // else: retired (or a current key without retireAfter that no longer signs, which cannot happen)
  }
  if (signing === null) {
    // First key: it signs at once, whatever was asked.
    settled.push({ ...fresh, status: 'current', retireAfter: null, activatesAt: null });
    return { keys: settled, outcome: { kid: fresh.kid, previousKid: null, activatesAt: iso(t) } };
  }
  if (o.retirePrevious === true) {
    // Every older key is suspect: none stays published, and the next write has nothing left to destroy.
    return { keys: [{ ...fresh, status: 'current', retireAfter: null, activatesAt: null }], outcome: { kid: fresh.kid, previousKid: signing, activatesAt: iso(t) } };
  }
  const activates = o.immediate === true ? t : t + o.leadSeconds * 1000;
  const retireAfter = iso(activates + o.retainSeconds * 1000);
  const atOnce = activates <= t;
  // The key that signs now gets its retirement clock; if the new key signs at once, it is previous already.
  const out = settled.map((k): T => (k.kid === signing ? { ...k, retireAfter, status: atOnce ? 'previous' : 'current' } : k));
  out.push(atOnce ? { ...fresh, status: 'current', retireAfter: null, activatesAt: null } : { ...fresh, status: 'next', retireAfter: null, activatesAt: iso(activates) });
  return { keys: out, outcome: { kid: fresh.kid, previousKid: signing, activatesAt: iso(activates) } };
}
