import { describe, expect, it } from 'vitest';
import { ConflictError, ValidationError } from '../../shared/domain/errors';
import { planRotation, publishedAt, signingKidAt, type KeySlot } from '../../shared/domain/identity/key-rotation';

const T0 = Date.parse('2026-11-22T00:00:00.000Z');
const iso = (ms: number): string => new Date(ms).toISOString();
const slot = (kid: string, status: KeySlot['status'], retireAfter: number | null = null, activatesAt: number | null = null): KeySlot => ({
  kid,
  status,
  retireAfter: retireAfter === null ? null : iso(retireAfter),
  activatesAt: activatesAt === null ? null : iso(activatesAt),
});
const fresh = slot('new', 'next');
const o = { leadSeconds: 600, retainSeconds: 900 };

describe('signing key life cycle (ADR-0005, NFR-SEC-004)', () => {
  it('a next key signs from its activatesAt on, not a millisecond before; it is published from the start', () => {
    const keys = [slot('a', 'current', T0 + 1_500_000), slot('b', 'next', null, T0 + 600_000)];
    expect(signingKidAt(keys, T0 + 599_999)).toBe('a');
    expect(signingKidAt(keys, T0 + 600_000)).toBe('b');
    expect(publishedAt(keys, T0).map((k) => k.kid)).toEqual(['a', 'b']);
    // The replaced key leaves the JWKS at its retireAfter exactly.
    expect(publishedAt(keys, T0 + 1_499_999).map((k) => k.kid)).toEqual(['a', 'b']);
    expect(publishedAt(keys, T0 + 1_500_000).map((k) => k.kid)).toEqual(['b']);
  });

  it('the first key signs at once, whatever was asked', () => {
    const { keys, outcome } = planRotation([], fresh, new Date(T0), o);
    expect(outcome).toEqual({ kid: 'new', previousKid: null, activatesAt: iso(T0) });
    expect(keys).toEqual([slot('new', 'current')]);
  });

  it('a staged rotation: the new key is next, the signing key gets retireAfter = activation + retention', () => {
    const { keys, outcome } = planRotation([slot('a', 'current')], fresh, new Date(T0), o);
    expect(outcome).toEqual({ kid: 'new', previousKid: 'a', activatesAt: iso(T0 + 600_000) });
    expect(keys).toEqual([slot('a', 'current', T0 + 1_500_000), slot('new', 'next', null, T0 + 600_000)]);
  });

  it('a rotation after activation settles the records first and destroys retired keys', () => {
    const before = [slot('old', 'previous', T0 - 1), slot('a', 'current', T0 + 1_000_000), slot('b', 'next', null, T0 - 100_000)];
    const { keys, outcome } = planRotation(before, fresh, new Date(T0), o);
    expect(outcome.previousKid).toBe('b');
    expect(keys).toEqual([slot('a', 'previous', T0 + 1_000_000), slot('b', 'current', T0 + 1_500_000), slot('new', 'next', null, T0 + 600_000)]);
  });

  it('a staged rotation while one is pending is refused; an immediate one drops the pending key and signs at once', () => {
    const before = [slot('a', 'current', T0 + 1_500_000), slot('b', 'next', null, T0 + 600_000)];
    expect(() => planRotation(before, fresh, new Date(T0 + 1000), o)).toThrow(ConflictError);
    const { keys, outcome } = planRotation(before, fresh, new Date(T0 + 1000), { ...o, immediate: true });
    expect(outcome).toEqual({ kid: 'new', previousKid: 'a', activatesAt: iso(T0 + 1000) });
    expect(keys).toEqual([slot('a', 'previous', T0 + 1000 + 900_000), slot('new', 'current')]);
  });

  it('a compromise: immediate + retirePrevious leaves the new key alone, every older one destroyed; retirePrevious alone is refused', () => {
    const before = [slot('old', 'previous', T0 + 100_000), slot('a', 'current', T0 + 1_500_000), slot('b', 'next', null, T0 + 600_000)];
    expect(() => planRotation(before, fresh, new Date(T0), { ...o, retirePrevious: true })).toThrow(ValidationError);
    const { keys, outcome } = planRotation(before, fresh, new Date(T0), { ...o, immediate: true, retirePrevious: true });
    expect(outcome).toEqual({ kid: 'new', previousKid: 'a', activatesAt: iso(T0) });
    expect(keys).toEqual([slot('new', 'current')]);
    expect(publishedAt(keys, T0).map((k) => k.kid)).toEqual(['new']);
  });

  it('with no lead, a rotation signs at once (the behaviour before staged rotation)', () => {
    const { keys } = planRotation([slot('a', 'current')], fresh, new Date(T0), { leadSeconds: 0, retainSeconds: 900 });
    expect(signingKidAt(keys, T0)).toBe('new');
    expect(keys).toEqual([slot('a', 'previous', T0 + 900_000), slot('new', 'current')]);
  });
});
