/**
 * Flag management by operators (FR-FLAG-001, DAT-FLAG, issue #5): typed values, overrides on top of the
 * plan's defaults, and a per-tenant version that every change increments (the delivery ETag's basis).
 */
import { z } from 'zod';
import type { DeliveredFlag, FlagReader, FlagType, TenantFlags } from './delivery-ports';
import { ConflictError, NotFoundError } from './errors';
import type { FlagValue } from './model';
import { PLAN_DEFAULT_FLAGS, type Plan } from './tenant';

export const FLAG_TYPES = ['boolean', 'string', 'number', 'object'] as const satisfies readonly FlagType[];

export const FLAG_KEY_PATTERN = /^[a-z][a-z0-9_.-]{0,63}$/;
export const flagKeySchema = z.string().regex(FLAG_KEY_PATTERN, 'must match ^[a-z][a-z0-9_.-]{0,63}$');

/**
 * Object and string values are capped (UTF-8 bytes of their JSON): a flag is configuration, not a
 * document store, and every delivery response carries all of a tenant's flags.
 */
export const MAX_FLAG_VALUE_BYTES = 4096;

/** `object` covers JSON objects and arrays — what OpenFeature calls a structure (DeliveredFlag allows both). */
const flagObjectSchema = z.union([z.record(z.string(), z.unknown()), z.array(z.unknown())]);

/** A value together with its type; the discriminated union lets TypeScript narrow the value by type. */
export const typedFlagValueSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('boolean'), value: z.boolean() }),
  z.object({ type: z.literal('string'), value: z.string() }),
  // z.number() rejects NaN and ±Infinity, which JSON cannot carry anyway.
  z.object({ type: z.literal('number'), value: z.number() }),
  z.object({ type: z.literal('object'), value: flagObjectSchema }),
]);
export type TypedFlagValue = z.infer<typeof typedFlagValueSchema>;

/** The type a bare value implies; undefined for null (and anything JSON cannot express). */
export function inferFlagType(value: unknown): FlagType | undefined {
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'number') return Number.isFinite(value) ? 'number' : undefined;
  if (value !== null && typeof value === 'object') return 'object';
  return undefined;
}

export function jsonBytes(value: unknown): number {
  return new TextEncoder().encode(JSON.stringify(value)).length;
}

/**
 * Validates `{ value, type? }` into a typed value. Why the type may be given: a client that wants a
 * string "true" or an object flag that happens to be empty says so; otherwise the JSON type decides.
 * Returns the problem as a message, so the HTTP body schema and the CLI report it their own way.
 */
export function toTypedFlagValue(value: unknown, type?: FlagType): { ok: true; flag: TypedFlagValue } | { ok: false; message: string } {
  if (value === undefined) return { ok: false, message: 'is required' };
  const t = type ?? inferFlagType(value);
  if (t === undefined) return { ok: false, message: 'must be a boolean, string, number or JSON object' };
  const parsed = typedFlagValueSchema.safeParse({ type: t, value });
  if (!parsed.success) return { ok: false, message: `is not a valid ${t} value` };
  if ((t === 'object' || t === 'string') && jsonBytes(value) > MAX_FLAG_VALUE_BYTES) {
    return { ok: false, message: `must be at most ${MAX_FLAG_VALUE_BYTES} bytes as JSON` };
  }
  return { ok: true, flag: parsed.data };
}

/** PUT /v1/tenants/{id}/flags/{key} body. */
export const setFlagBody = z
  .strictObject({ value: z.unknown(), type: z.enum(FLAG_TYPES).optional() })
  .transform((b, ctx): TypedFlagValue => {
    const r = toTypedFlagValue(b.value, b.type);
    if (r.ok) return r.flag;
    ctx.addIssue({ code: 'custom', path: ['value'], message: r.message });
    return z.NEVER;
  });

export function deliveredFlag(f: FlagValue): DeliveredFlag {
  return { key: f.key, type: f.type ?? 'boolean', value: f.value, source: f.source };
}

/** What an audit record keeps of a flag's state: enough to see what changed, nothing tenant-foreign. */
export function flagState(f: DeliveredFlag | undefined): { type: FlagType; value: DeliveredFlag['value']; source: DeliveredFlag['source'] } | null {
  return f === undefined ? null : { type: f.type, value: f.value, source: f.source };
}

export interface FlagChanges {
  readonly put: readonly FlagValue[];
  readonly remove: readonly string[];
}

export interface FlagStore extends FlagReader {
  /**
   * Writes the changes and sets the version to expectedVersion + 1 in one transaction, provided the
   * version is still expectedVersion. Returns the new version, or undefined when another change came
   * first (the caller re-reads and decides again).
   */
  commit(tenantId: string, expectedVersion: number, changes: FlagChanges, at: string): Promise<number | undefined>;
}

const ATTEMPTS = 3;

/**
 * Read → decide → commit, repeated when a concurrent change moved the version: the decision (and the
 * `previous` value it audits) is always made on the state the write replaces.
 */
export async function changeFlags<T>(
  store: FlagStore,
  tenantId: string,
  at: string,
  decide: (current: TenantFlags) => { changes: FlagChanges; result: T },
): Promise<{ result: T; version: number }> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const current = await store.tenantFlags(tenantId);
    const { changes, result } = decide(current);
    const version = await store.commit(tenantId, current.version, changes, at);
    if (version !== undefined) return { result, version };
  }
  throw new ConflictError("The tenant's flags changed concurrently; retry the request.");
}

/** An operator override: survives plan changes until unset (FR-FLAG-001). */
export function overrideFlag(tenantId: string, key: string, v: TypedFlagValue, at: string): FlagValue {
  return { tenantId, key, ...v, source: 'override', updatedAt: at };
}

/**
 * Removing an override: the plan's default for the key comes back if the plan has one, otherwise the
 * flag disappears. Only overrides can be unset — a plan flag is changed by changing the plan.
 */
export function unsetOverride(current: TenantFlags, tenantId: string, key: string, plan: Plan, at: string): { changes: FlagChanges; previous: DeliveredFlag; restored: FlagValue | undefined } {
  const previous = current.flags.find((f) => f.key === key);
  if (previous?.source !== 'override') throw new NotFoundError(`The tenant has no override for flag ${key}.`);
  const defaults: Readonly<Record<string, boolean>> = PLAN_DEFAULT_FLAGS[plan];
  const planValue = Object.hasOwn(defaults, key) ? defaults[key] : undefined;
  if (planValue === undefined) return { changes: { put: [], remove: [key] }, previous, restored: undefined };
  const restored: FlagValue = { tenantId, key, type: 'boolean', value: planValue, source: 'plan', updatedAt: at };
  return { changes: { put: [restored], remove: [] }, previous, restored };
}

const NUMERIC = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * A value typed on a command line (cpctl flags set): everything arrives as a string, so the type is
 * guessed from its spelling — true/false, a number, a JSON object or array, else a string — unless the
 * caller names it (`--type string` keeps "true" a string).
 */
export function parseFlagArgument(raw: string, type?: FlagType): { ok: true; flag: TypedFlagValue } | { ok: false; message: string } {
  const json = (): unknown => {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      return undefined;
    }
  };
  switch (type) {
    case 'boolean':
      return raw === 'true' || raw === 'false' ? toTypedFlagValue(raw === 'true', 'boolean') : { ok: false, message: 'must be true or false' };
    case 'number':
      return NUMERIC.test(raw.trim()) ? toTypedFlagValue(Number(raw), 'number') : { ok: false, message: 'must be a number' };
    case 'object': {
      const v = json();
      return v !== null && typeof v === 'object' ? toTypedFlagValue(v, 'object') : { ok: false, message: 'must be a JSON object or array' };
    }
    case 'string':
      return toTypedFlagValue(raw, 'string');
    case undefined: {
      if (raw === 'true' || raw === 'false') return toTypedFlagValue(raw === 'true', 'boolean');
      if (NUMERIC.test(raw.trim())) return toTypedFlagValue(Number(raw), 'number');
      const v = /^\s*[[{]/.test(raw) ? json() : undefined;
      return v !== null && typeof v === 'object' ? toTypedFlagValue(v, 'object') : toTypedFlagValue(raw, 'string');
    }
  }
}
