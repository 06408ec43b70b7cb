/**
 * PasswordHasher with argon2id (CON-SEC-001, NFR-SEC-004), via @node-rs/argon2: the Rust `argon2` crate
 * as a native addon (~3.5x faster here than the WASM builds, so stronger than OWASP parameters fit a
 * login budget: ADR-0012).
 * The hash and verify calls run on the libuv thread pool, not on the event loop.
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as Argon2Module from '@node-rs/argon2';
import type { Algorithm, Version } from '@node-rs/argon2';

/**
 * The native addon is loaded on first use, not at import time: esbuild cannot bundle a `.node` binary,
 * so only the Lambda functions that hash passwords ship it (next to the bundle, see
 * lib/constructs/route-function.ts), and every other function never touches it.
 */
const requireNative = createRequire(import.meta.url);
let nativeModule: typeof Argon2Module | undefined;
function native(): typeof Argon2Module {
  nativeModule ??= requireNative('@node-rs/argon2') as typeof Argon2Module;
  return nativeModule;
}
import type { PasswordHasher } from '../../domain/identity/ports';
import { normalizePassword } from '../../domain/identity/password-normalization';

// The package declares these as `const enum`s, which isolatedModules cannot inline: use their values.
const ARGON2ID = 2 as Algorithm;
const VERSION_0x13 = 1 as Version;

export interface Argon2idParameters {
  /** m, KiB. */
  readonly memoryCost: number;
  /** t, passes. */
  readonly timeCost: number;
  /** p, lanes. */
  readonly parallelism: number;
  /** Bytes of random salt per hash. */
  readonly saltLength: number;
  /** Bytes of hash output. */
  readonly outputLength: number;
}

/**
 * OWASP Password Storage Cheat Sheet, argon2id: m=19 MiB, t=2, p=1 (the first of its equivalent
 * configurations), 16-byte salt (RFC 9106 recommends 128 bits), 32-byte tag. These are also the floors:
 * a configuration may raise any of them, never lower one.
 */
export const OWASP_ARGON2ID: Argon2idParameters = Object.freeze({ memoryCost: 19_456, timeCost: 2, parallelism: 1, saltLength: 16, outputLength: 32 });

/**
 * What new hashes use (ADR-0012): twice OWASP's memory, 38 MiB, so that a hash spends the architecture
 * notes' budget of about 20–25 ms of CPU here. OWASP's 19 MiB costs only about 10 ms in this native addon,
 * and more memory per guess is what raises a GPU or ASIC attacker's cost most (RFC 9106 §4, §7.2).
 */
export const DEFAULT_ARGON2ID: Argon2idParameters = Object.freeze({ ...OWASP_ARGON2ID, memoryCost: 38_912 });

export interface Argon2idHasherOptions extends Partial<Argon2idParameters> {
  /**
   * Stored hashes whose cost exceeds these are refused by verify (false) without being computed: a
   * corrupted or tampered hash with m=10^9 would otherwise make argon2 allocate ~1 TB and get the process
   * killed (observed: it does). Defaults: 4x the configured memory and time cost, 16 lanes, so hashes
   * from a somewhat stronger past configuration still verify.
   */
  readonly maxMemoryCost?: number;
  readonly maxTimeCost?: number;
  readonly maxParallelism?: number;
}

/** Input of the throwaway computation that pads a cheaper hash's verify (padToCurrentCost); never stored. */
const PADDING_INPUT = 'argon2id cost padding';
const PADDING_SALT = Buffer.alloc(16, 0x5a);

/** A PHC argon2 string with 64-byte salt and hash is ~200 characters; anything far longer is not ours. */
const MAX_PHC_LENGTH = 512;

interface ParsedHash {
  readonly algorithm: Algorithm;
  readonly version: Version;
  readonly memoryCost: number;
  readonly timeCost: number;
  readonly parallelism: number;
  readonly outputLen: number;
  readonly saltLen: number;
}

export class Argon2idHasher implements PasswordHasher {
  readonly parameters: Argon2idParameters;
  private readonly maxMemoryCost: number;
  private readonly maxTimeCost: number;
  private readonly maxParallelism: number;
  /**
   * Hash of a random, discarded password with the current parameters, for burn(). Started at
   * construction (off the event loop) so that it is ready before the first unknown-account login.
   */
  private readonly dummyHash: Promise<string>;

  constructor(options: Argon2idHasherOptions = {}) {
    const p: Argon2idParameters = {
      memoryCost: options.memoryCost ?? DEFAULT_ARGON2ID.memoryCost,
      timeCost: options.timeCost ?? DEFAULT_ARGON2ID.timeCost,
      parallelism: options.parallelism ?? DEFAULT_ARGON2ID.parallelism,
      saltLength: options.saltLength ?? DEFAULT_ARGON2ID.saltLength,
      outputLength: options.outputLength ?? DEFAULT_ARGON2ID.outputLength,
    };
    for (const key of Object.keys(OWASP_ARGON2ID) as (keyof Argon2idParameters)[]) {
      if (!Number.isSafeInteger(p[key]) || p[key] < OWASP_ARGON2ID[key]) {
        throw new RangeError(`argon2id ${key} must be an integer ≥ ${OWASP_ARGON2ID[key]} (OWASP minimum); got ${p[key]}`);
      }
    }
    this.parameters = Object.freeze(p);
    this.maxMemoryCost = options.maxMemoryCost ?? p.memoryCost * 4;
    this.maxTimeCost = options.maxTimeCost ?? p.timeCost * 4;
    this.maxParallelism = options.maxParallelism ?? Math.max(16, p.parallelism);
    if (this.maxMemoryCost < p.memoryCost || this.maxTimeCost < p.timeCost || this.maxParallelism < p.parallelism) {
      throw new RangeError('argon2id verify limits must not be below the hashing parameters');
    }
    this.dummyHash = this.hash(randomBytes(32).toString('base64url'));
    // A failure surfaces when burn() awaits it; do not let it become an unhandled rejection meanwhile.
    this.dummyHash.catch(() => undefined);
  }

  async hash(password: string): Promise<string> {
    const { memoryCost, timeCost, parallelism, saltLength, outputLength } = this.parameters;
    return native().hash(normalizePassword(password), {
      algorithm: ARGON2ID,
      version: VERSION_0x13,
      memoryCost,
      timeCost,
      parallelism,
      outputLen: outputLength,
      // Our own CSPRNG salt, so its length is ours to configure rather than the library's default.
      salt: randomBytes(saltLength),
    });
  }

  /**
   * False, never an exception, for anything that is not a verifiable argon2 hash within our cost limits.
   * The comparison of the recomputed tag is constant-time inside the argon2 crate. Older argon2 variants
   * and weaker parameters still verify, so that needsRehash can upgrade them at login.
   */
  async verify(hash: string, password: string): Promise<boolean> {
    if (typeof hash !== 'string' || typeof password !== 'string') return false;
    const parsed = this.parse(hash);
    if (!parsed || !this.withinLimits(parsed)) return false;
    let ok: boolean;
    try {
      ok = await native().verify(hash, normalizePassword(password));
    } catch {
      ok = false;
    }
    await this.padToCurrentCost(parsed);
    return ok;
  }

  /**
   * A hash from a cheaper configuration (before ADR-0012, or any weaker past one) verifies faster than
   * burn() runs for an unknown account, so until its owner signs in again a wrong password would tell an
   * attacker that the account exists. This makes up the difference in argon2 work (memory × passes) with a
   * throwaway computation, whatever the verify's outcome. Django calls this "harden_runtime".
   */
  private async padToCurrentCost(h: ParsedHash): Promise<void> {
    const p = this.parameters;
    const missing = p.memoryCost * p.timeCost - h.memoryCost * h.timeCost;
    const memoryCost = Math.ceil(missing / p.timeCost);
    // argon2 needs at least 8 KiB per lane; a smaller gap is noise next to the verify itself.
    if (memoryCost < 8 * p.parallelism) return;
    try {
      await native().hash(PADDING_INPUT, { algorithm: ARGON2ID, version: VERSION_0x13, memoryCost, timeCost: p.timeCost, parallelism: p.parallelism, outputLen: p.outputLength, salt: PADDING_SALT });
    } catch {
      // Padding is best effort: never turn a verify into an error.
    }
  }

  /** Weaker on any axis than the current parameters, another argon2 variant or version, or unreadable. */
  needsRehash(hash: string): boolean {
    const parsed = this.parse(hash);
    if (!parsed) return true;
    const p = this.parameters;
    return (
      parsed.algorithm !== ARGON2ID ||
      parsed.version !== VERSION_0x13 ||
      parsed.memoryCost < p.memoryCost ||
      parsed.timeCost < p.timeCost ||
      parsed.saltLen < p.saltLength ||
      parsed.outputLen < p.outputLength
    );
    // Parallelism is not compared: with the same m and t, more lanes is not weaker, only different.
  }

  /**
   * For unknown accounts: a real argon2 verification with the current parameters, so that "no such user"
   * costs what "wrong password" costs and response times do not reveal which emails have accounts.
   */
  async burn(password: string): Promise<void> {
    await this.verify(await this.dummyHash, typeof password === 'string' ? password : '');
  }

  private parse(hash: string): ParsedHash | null {
    if (typeof hash !== 'string' || hash.length > MAX_PHC_LENGTH || !hash.startsWith('$argon2')) return null;
    try {
      return native().parseOptions(hash);
    } catch {
      return null;
    }
  }

  private withinLimits(h: ParsedHash): boolean {
    return h.memoryCost <= this.maxMemoryCost && h.timeCost <= this.maxTimeCost && h.parallelism <= this.maxParallelism;
  }
}
