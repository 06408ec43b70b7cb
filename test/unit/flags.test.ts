import { describe, expect, it } from 'vitest';
import { decodeFlagItem, toFlagItem } from '../../shared/adapters/dynamo/codecs';
import { InternalError, NotFoundError } from '../../shared/domain/errors';
import { flagKeySchema, inferFlagType, MAX_FLAG_VALUE_BYTES, parseFlagArgument, setFlagBody, toTypedFlagValue, unsetOverride } from '../../shared/domain/flags';
import { planFlagChanges } from '../../shared/domain/tenant-settings';

const T = '00000000-0000-4000-8000-000000000001';
const AT = '2026-01-01T00:00:00.000Z';

describe('flag values (DAT-FLAG, issue #5)', () => {
  it('infers the type from the JSON value', () => {
    expect(inferFlagType(true)).toBe('boolean');
    expect(inferFlagType('on')).toBe('string');
    expect(inferFlagType(3.5)).toBe('number');
    expect(inferFlagType({ a: 1 })).toBe('object');
    expect(inferFlagType([1, 2])).toBe('object');
    expect(inferFlagType(null)).toBeUndefined();
    expect(inferFlagType(Number.NaN)).toBeUndefined();
  });

  it('validates the body: an explicit type must match the value; null and missing values are refused', () => {
    expect(setFlagBody.parse({ value: 'x' })).toEqual({ type: 'string', value: 'x' });
    expect(setFlagBody.parse({ value: {}, type: 'object' })).toEqual({ type: 'object', value: {} });
    for (const bad of [{ value: 'true', type: 'boolean' }, { value: 1, type: 'string' }, { value: null }, {}, { value: true, extra: 1 }, { value: 1, type: 'date' }]) {
      expect(setFlagBody.safeParse(bad).success).toBe(false);
    }
    const r = setFlagBody.safeParse({ value: 5, type: 'boolean' });
    expect(r.success ? [] : r.error.issues.map((i) => i.path.join('/'))).toEqual(['value']);
  });

  it(`limits object and string values to ${MAX_FLAG_VALUE_BYTES} bytes of JSON`, () => {
    const fits = { s: 'x'.repeat(MAX_FLAG_VALUE_BYTES - 8) }; // {"s":"…"} adds 8 bytes
    expect(toTypedFlagValue(fits).ok).toBe(true);
    expect(toTypedFlagValue({ s: 'x'.repeat(MAX_FLAG_VALUE_BYTES - 7) })).toEqual({ ok: false, message: expect.stringContaining('4096 bytes') });
    // Bytes, not characters: multi-byte text counts as what it costs to store and deliver.
    expect(toTypedFlagValue({ s: 'é'.repeat(MAX_FLAG_VALUE_BYTES / 2) }).ok).toBe(false);
    expect(toTypedFlagValue('y'.repeat(MAX_FLAG_VALUE_BYTES)).ok).toBe(false);
  });

  it('accepts keys matching ^[a-z][a-z0-9_.-]{0,63}$ only', () => {
    for (const ok of ['a', 'sso_enabled', 'checkout.v2-beta', `a${'b'.repeat(63)}`]) expect(flagKeySchema.safeParse(ok).success).toBe(true);
    for (const bad of ['', 'A', '1abc', '_x', 'a b', 'a#b', 'über', `a${'b'.repeat(64)}`]) expect(flagKeySchema.safeParse(bad).success).toBe(false);
  });

  it('parses cpctl arguments by spelling unless a type is named', () => {
    const flag = (raw: string, type?: 'boolean' | 'string' | 'number' | 'object'): unknown => {
      const r = parseFlagArgument(raw, type);
      return r.ok ? r.flag : r.message;
    };
    expect(flag('true')).toEqual({ type: 'boolean', value: true });
    expect(flag('-1.5e3')).toEqual({ type: 'number', value: -1500 });
    expect(flag('{"a":[1]}')).toEqual({ type: 'object', value: { a: [1] } });
    expect(flag('{not json')).toEqual({ type: 'string', value: '{not json' });
    expect(flag('hello')).toEqual({ type: 'string', value: 'hello' });
    expect(flag('true', 'string')).toEqual({ type: 'string', value: 'true' });
    expect(flag('42', 'string')).toEqual({ type: 'string', value: '42' });
    expect(flag('yes', 'boolean')).toBe('must be true or false');
    expect(flag('12abc', 'number')).toBe('must be a number');
    expect(flag('"s"', 'object')).toBe('must be a JSON object or array');
  });
});

describe('flag items', () => {
  it('decodes legacy items without a type as booleans', () => {
    const legacy = { PK: `TENANT#${T}`, SK: 'FLAG#sso_enabled', entity: 'Flag', tenantId: T, key: 'sso_enabled', value: true, source: 'override', updatedAt: AT };
    expect(decodeFlagItem(legacy)).toEqual({ tenantId: T, key: 'sso_enabled', type: 'boolean', value: true, source: 'override', updatedAt: AT });
  });

  it('round-trips every type and writes the type even for booleans', () => {
    for (const v of [
      { type: 'boolean', value: false },
      { type: 'string', value: 'blue' },
      { type: 'number', value: 7 },
      { type: 'object', value: { limits: { seats: 5 } } },
    ] as const) {
      const item = toFlagItem({ tenantId: T, key: 'k', ...v, source: 'override', updatedAt: AT });
      expect(item).toMatchObject({ SK: 'FLAG#k', type: v.type });
      expect(decodeFlagItem(item)).toMatchObject(v);
    }
    expect(toFlagItem({ tenantId: T, key: 'k', value: true, source: 'plan', updatedAt: AT })['type']).toBe('boolean');
  });

  it('refuses an item whose value does not match its type', () => {
    const item = { entity: 'Flag', tenantId: T, key: 'k', type: 'number', value: 'x', source: 'plan', updatedAt: AT };
    expect(() => decodeFlagItem(item)).toThrow(InternalError);
  });
});

describe('overrides and plan defaults (FR-FLAG-001)', () => {
  const flags = { version: 4, flags: [{ key: 'sso_enabled', type: 'string', value: 'forced', source: 'override' }, { key: 'colour', type: 'string', value: 'red', source: 'override' }, { key: 'ai_module_enabled', type: 'boolean', value: true, source: 'plan' }] } as const;

  it('unset restores the plan default when the plan has the key, else removes the flag', () => {
    const restored = unsetOverride(flags, T, 'sso_enabled', 'Enterprise', AT);
    expect(restored.changes).toEqual({ put: [{ tenantId: T, key: 'sso_enabled', type: 'boolean', value: true, source: 'plan', updatedAt: AT }], remove: [] });
    expect(unsetOverride(flags, T, 'colour', 'Free', AT).changes).toEqual({ put: [], remove: ['colour'] });
    expect(() => unsetOverride(flags, T, 'ai_module_enabled', 'Free', AT)).toThrow(NotFoundError);
    expect(() => unsetOverride(flags, T, 'nope', 'Free', AT)).toThrow(NotFoundError);
  });

  it('a plan change leaves typed overrides alone', () => {
    const current = [{ tenantId: T, key: 'sso_enabled', type: 'string' as const, value: 'forced', source: 'override' as const, updatedAt: AT }];
    const changes = planFlagChanges(current, T, 'Enterprise', AT);
    expect(changes.put.map((f) => f.key).sort()).toEqual(['advanced_analytics', 'ai_module_enabled', 'audit_export_enabled']);
    expect(changes.put.every((f) => f.type === 'boolean' && f.source === 'plan')).toBe(true);
  });
});
