import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { Argon2idHasher, DEFAULT_ARGON2ID, OWASP_ARGON2ID } from '../../shared/adapters/crypto/argon2-hasher';

// The adapter loads the addon with require() on first use (it is not bundled into Lambda code); the
// require cache hands this test the same module object, so a pass-through spy sees the adapter's calls.
const argon2 = createRequire(import.meta.url)('@node-rs/argon2') as typeof import('@node-rs/argon2');
const nativeVerify = vi.spyOn(argon2, 'verify');

/** PHC: $argon2id$v=19$m=…,t=…,p=…$<salt b64, no padding>$<hash b64, no padding>; 16 B → 22 chars, 32 B → 43. */
const PHC = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;
const B64_22 = 'c29tZXNhbHRzb21lc2FsdA';
const B64_43 = 'iWh06vD8Fy27wf9npn6FXWiCX4K6pW6Ue1Bnzz07Z8A';

const hasher = new Argon2idHasher();

beforeEach(() => {
  nativeVerify.mockClear();
});

describe('Argon2idHasher parameters (CON-SEC-001, NFR-SEC-004)', () => {
  it('CON-SEC-001 / NFR-SEC-004: hashes are argon2id v19 with m=38912,t=2,p=1 (ADR-0012), 16-byte salt, 32-byte output', async () => {
    const h = await hasher.hash('correct horse battery staple');
    const m = PHC.exec(h);
    expect(m, h).not.toBeNull();
    expect(m?.slice(1, 4)).toEqual(['38912', '2', '1']);
    expect(m?.[4]).toHaveLength(22);
    expect(m?.[5]).toHaveLength(43);
    expect(argon2.parseOptions(h)).toMatchObject({ algorithm: 2, version: 1, memoryCost: 38_912, timeCost: 2, parallelism: 1, saltLen: 16, outputLen: 32 });
  });

  it('NFR-SEC-004: two hashes of the same password have different salts (and so different hashes)', async () => {
    const [a, b] = await Promise.all([hasher.hash('same password'), hasher.hash('same password')]);
    expect(PHC.exec(a)?.[4]).not.toBe(PHC.exec(b)?.[4]);
    expect(a).not.toBe(b);
  });

  it('CON-SEC-001: stronger parameters are configurable', async () => {
    const strong = new Argon2idHasher({ memoryCost: 32_768, timeCost: 3, saltLength: 32, outputLength: 64 });
    const h = await strong.hash('pw');
    expect(argon2.parseOptions(h)).toMatchObject({ memoryCost: 32_768, timeCost: 3, parallelism: 1, saltLen: 32, outputLen: 64 });
    expect(await strong.verify(h, 'pw')).toBe(true);
  });

  it.each([{ memoryCost: 19_455 }, { timeCost: 1 }, { parallelism: 0 }, { saltLength: 8 }, { outputLength: 16 }, { memoryCost: 20_000.5 }])(
    'CON-SEC-001: parameters weaker than OWASP are refused at construction: %j',
    (weaker) => {
      expect(() => new Argon2idHasher(weaker)).toThrow(RangeError);
    },
  );

  it('CON-SEC-001: the defaults are OWASP\'s constants with twice the memory (ADR-0012); OWASP\'s are the floors', () => {
    expect(hasher.parameters).toEqual(DEFAULT_ARGON2ID);
    expect(DEFAULT_ARGON2ID).toEqual({ memoryCost: 38_912, timeCost: 2, parallelism: 1, saltLength: 16, outputLength: 32 });
    expect(OWASP_ARGON2ID).toEqual({ memoryCost: 19_456, timeCost: 2, parallelism: 1, saltLength: 16, outputLength: 32 });
  });

  it('NFR-SEC-004: a hash at the OWASP floor still verifies, and is due for a rehash to the defaults (ADR-0012)', async () => {
    const floorHash = await new Argon2idHasher(OWASP_ARGON2ID).hash('pw');
    expect(await hasher.verify(floorHash, 'pw')).toBe(true);
    expect(hasher.needsRehash(floorHash)).toBe(true);
  });
});

describe('Argon2idHasher verify', () => {
  it('NFR-SEC-004: verify is true for the right password and false for a wrong one', async () => {
    const h = await hasher.hash('Tq9#mZ2!vL8@xR4$');
    expect(await hasher.verify(h, 'Tq9#mZ2!vL8@xR4$')).toBe(true);
    expect(await hasher.verify(h, 'Tq9#mZ2!vL8@xR4%')).toBe(false);
    expect(await hasher.verify(h, '')).toBe(false);
  });

  it.each([
    ['empty', ''],
    ['garbage', 'not a hash'],
    ['bcrypt', '$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy'],
    ['no salt or hash', '$argon2id$v=19$m=19456,t=2,p=1$'],
    ['truncated hash', `$argon2id$v=19$m=19456,t=2,p=1$${B64_22}$iWh0`],
    ['bad base64', `$argon2id$v=19$m=19456,t=2,p=1$${B64_22}$${'!'.repeat(43)}`],
    ['unknown variant', `$argon2x$v=19$m=19456,t=2,p=1$${B64_22}$${B64_43}`],
    ['oversized string', `$argon2id$v=19$m=19456,t=2,p=1$${'A'.repeat(600)}$${B64_43}`],
  ])('NFR-SEC-004: a malformed hash (%s) verifies false and does not throw', async (_name, bad) => {
    await expect(hasher.verify(bad, 'password')).resolves.toBe(false);
  });

  it('NFR-SEC-004: non-string inputs verify false (they can arrive from JSON at run time)', async () => {
    const h = await hasher.hash('pw');
    await expect(hasher.verify(null as unknown as string, 'pw')).resolves.toBe(false);
    await expect(hasher.verify(h, 42 as unknown as string)).resolves.toBe(false);
  });

  it('NFR-SEC-004: a hash demanding absurd cost is refused without running argon2 (no OOM from a bad record)', async () => {
    // m=10^9 KiB would make argon2 try to allocate ~1 TB; the OS kills the process (observed).
    // Mildest first, checked one by one: if the guard were missing, the test fails on a cheap case
    // instead of running the expensive ones.
    for (const params of [`m=${DEFAULT_ARGON2ID.memoryCost * 4 + 1},t=2,p=1`, 'm=19456,t=2,p=255', 'm=19456,t=100000,p=1', 'm=1000000000,t=2,p=1']) {
      await expect(hasher.verify(`$argon2id$v=19$${params}$${B64_22}$${B64_43}`, 'password')).resolves.toBe(false);
      expect(nativeVerify, params).not.toHaveBeenCalled();
    }
  });

  it('NFR-SEC-004: hashes from a weaker (legacy) configuration still verify, so they can be upgraded at login', async () => {
    const legacy = await argon2.hash('old password', { memoryCost: 4096, timeCost: 3, parallelism: 1 });
    expect(await hasher.verify(legacy, 'old password')).toBe(true);
    expect(hasher.needsRehash(legacy)).toBe(true);
  });

  it('CON-SEC-001: NFC: hash the composed form, verify the decomposed form → true (and vice versa)', async () => {
    const composed = 'caf\u00e9-cr\u00e8me-br\u00fbl\u00e9e';
    const decomposed = composed.normalize('NFD');
    expect(decomposed).not.toBe(composed);
    expect(await hasher.verify(await hasher.hash(composed), decomposed)).toBe(true);
    expect(await hasher.verify(await hasher.hash(decomposed), composed)).toBe(true);
    // The library alone would treat them as different passwords: the normalisation is ours.
    const raw = await argon2.hash(composed);
    expect(await argon2.verify(raw, decomposed)).toBe(false);
  });

  it('CON-SEC-001: nothing is truncated: passwords differing only after byte 72 (bcrypt limit) are different', async () => {
    const base = 'x'.repeat(200);
    const h = await hasher.hash(`${base}a`);
    expect(await hasher.verify(h, `${base}a`)).toBe(true);
    expect(await hasher.verify(h, `${base}b`)).toBe(false);
    expect(await hasher.verify(h, base)).toBe(false);
  });
});

describe('Argon2idHasher needsRehash', () => {
  it('NFR-SEC-004: false for a hash made with the current parameters', async () => {
    expect(hasher.needsRehash(await hasher.hash('pw'))).toBe(false);
  });

  it.each([
    ['lower memory', `$argon2id$v=19$m=16384,t=2,p=1$${B64_22}$${B64_43}`],
    ['lower time', `$argon2id$v=19$m=19456,t=1,p=1$${B64_22}$${B64_43}`],
    ['shorter salt', `$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$${B64_43}`],
    ['argon2i', `$argon2i$v=19$m=19456,t=2,p=1$${B64_22}$${B64_43}`],
    ['argon2d', `$argon2d$v=19$m=19456,t=2,p=1$${B64_22}$${B64_43}`],
    ['version 0x10', `$argon2id$v=16$m=19456,t=2,p=1$${B64_22}$${B64_43}`],
    ['malformed', 'garbage'],
  ])('NFR-SEC-004: true for %s', (_name, h) => {
    expect(hasher.needsRehash(h)).toBe(true);
  });

  it('NFR-SEC-004: compares against the configured parameters, not the OWASP floor', async () => {
    const stronger = new Argon2idHasher({ memoryCost: 65_536 });
    const owaspHash = await hasher.hash('pw');
    expect(stronger.needsRehash(owaspHash)).toBe(true);
    expect(hasher.needsRehash(await stronger.hash('pw'))).toBe(false);
  });
});

describe('Argon2idHasher verify of a cheaper hash (no user enumeration by timing, ADR-0012)', () => {
  const nativeHash = vi.spyOn(argon2, 'hash');

  it.each([
    ['the OWASP floor (m=19456, t=2)', OWASP_ARGON2ID, 19_456],
    ['a legacy m=4096, t=3', { ...OWASP_ARGON2ID, memoryCost: 4_096, timeCost: 3 }, 32_768],
  ])('CON-SEC-009: a hash at %s is padded to the current work (memory x passes), for a right and a wrong password alike', async (_name, params, padMemory) => {
    const cheap = await argon2.hash('pw', { memoryCost: params.memoryCost, timeCost: params.timeCost, parallelism: 1 });
    for (const [password, expected] of [['pw', true], ['wrong', false]] as const) {
      nativeHash.mockClear();
      expect(await hasher.verify(cheap, password)).toBe(expected);
      expect(nativeHash).toHaveBeenCalledTimes(1);
      const [, options] = nativeHash.mock.calls[0] ?? [];
      expect(options).toMatchObject({ memoryCost: padMemory, timeCost: DEFAULT_ARGON2ID.timeCost });
      // What the padding made up plus what the verify did is the current parameters' work.
      expect(padMemory * DEFAULT_ARGON2ID.timeCost + params.memoryCost * params.timeCost).toBe(DEFAULT_ARGON2ID.memoryCost * DEFAULT_ARGON2ID.timeCost);
    }
  });

  it('CON-SEC-009: a hash at the current parameters (or stronger) gets no padding', async () => {
    const current = await hasher.hash('pw');
    const stronger = await new Argon2idHasher({ memoryCost: 65_536 }).hash('pw');
    nativeHash.mockClear();
    expect(await hasher.verify(current, 'wrong')).toBe(false);
    expect(await hasher.verify(stronger, 'pw')).toBe(true);
    expect(nativeHash).not.toHaveBeenCalled();
  });
});

describe('Argon2idHasher burn (no user enumeration by timing)', () => {
  it('NFR-SEC-004: burn runs a real argon2 verification against a hash with the current parameters', async () => {
    await hasher.burn('whatever was typed');
    expect(nativeVerify).toHaveBeenCalledTimes(1);
    const [dummy, password] = nativeVerify.mock.calls[0] ?? [];
    expect(typeof dummy).toBe('string');
    expect(argon2.parseOptions(dummy as string)).toMatchObject({ algorithm: 2, memoryCost: 38_912, timeCost: 2, parallelism: 1, saltLen: 16, outputLen: 32 });
    expect(password).toBe('whatever was typed');
    expect(hasher.needsRehash(dummy as string)).toBe(false);
  });

  it('NFR-SEC-004: the dummy hash is computed once, at construction, and reused', async () => {
    await hasher.burn('a');
    await hasher.burn('b');
    const dummies = nativeVerify.mock.calls.map((c) => c[0]);
    expect(dummies).toHaveLength(2);
    expect(dummies[0]).toBe(dummies[1]);
    const stronger = new Argon2idHasher({ timeCost: 3 });
    await stronger.burn('c');
    expect(argon2.parseOptions(nativeVerify.mock.calls[2]?.[0] as string)).toMatchObject({ timeCost: 3 });
  });

  it('NFR-SEC-004: burn resolves (never throws) and takes time comparable to a real verify', async () => {
    const h = await hasher.hash('pw');
    await hasher.burn('warm-up');
    const burnMs: number[] = [];
    const verifyMs: number[] = [];
    // Interleaved, medians of 5: robust to a noisy neighbour on a 2-core machine. The factor is generous
    // on purpose: this catches a burn() that skips argon2 (~0 ms), not a few percent of difference.
    for (let i = 0; i < 5; i++) {
      let t = performance.now();
      await hasher.burn('wrong');
      burnMs.push(performance.now() - t);
      t = performance.now();
      await hasher.verify(h, 'wrong');
      verifyMs.push(performance.now() - t);
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[2] ?? NaN;
    expect(median(burnMs)).toBeGreaterThan(0.3 * median(verifyMs));
    expect(median(burnMs)).toBeLessThan(3 * median(verifyMs));
  });
});
