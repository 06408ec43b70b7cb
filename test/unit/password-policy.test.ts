import { describe, expect, it } from 'vitest';
import { BusinessRuleError } from '../../shared/domain/errors';
import { commonPasswordCount, isCommonPassword } from '../../shared/domain/identity/common-passwords';
import { COMMON_PASSWORDS_TEXT } from '../../shared/domain/identity/common-passwords.data';
import {
  assertPasswordAcceptable,
  checkPassword,
  DEFAULT_PASSWORD_POLICY,
  describePolicy,
  passwordPolicySchema,
  type PasswordPolicy,
  type PasswordRule,
} from '../../shared/domain/identity/password-policy';

/** Not on any list, no context, 16 code points: passes the default policy. */
const GOOD = 'vivid-otter-lamp';
const policy = (overrides: Partial<PasswordPolicy> = {}): PasswordPolicy => ({ ...DEFAULT_PASSWORD_POLICY, ...overrides });
const rules = (password: string, p: PasswordPolicy = DEFAULT_PASSWORD_POLICY, ctx = {}): PasswordRule[] => checkPassword(password, p, ctx).map((v) => v.rule);

describe('Password policy defaults and schema (FR-AUTH-006, CON-SEC-001)', () => {
  it('FR-AUTH-006: the default policy is NIST-style: 12..128, blocklists on, composition rules off', () => {
    expect(DEFAULT_PASSWORD_POLICY).toEqual({
      minLength: 12,
      maxLength: 128,
      requireLowercase: false,
      requireUppercase: false,
      requireDigit: false,
      requireSymbol: false,
      rejectCommon: true,
      rejectContextual: true,
    });
    expect(Object.isFrozen(DEFAULT_PASSWORD_POLICY)).toBe(true);
    expect(passwordPolicySchema.parse({})).toEqual(DEFAULT_PASSWORD_POLICY);
  });

  it('CON-SEC-001: a tenant can configure a stricter policy', () => {
    const p = passwordPolicySchema.parse({ minLength: 16, maxLength: 256, requireDigit: true, requireSymbol: true });
    expect(p).toMatchObject({ minLength: 16, maxLength: 256, requireDigit: true, requireSymbol: true, rejectCommon: true });
  });

  it.each([
    [{ minLength: 7 }, 'minLength'],
    [{ minLength: 129 }, 'minLength'],
    [{ minLength: 12.5 }, 'minLength'],
    [{ maxLength: 63 }, 'maxLength'],
    [{ maxLength: 1025 }, 'maxLength'],
    [{ minLength: 100, maxLength: 64 }, 'maxLength'],
    [{ requireDigit: 'yes' }, 'requireDigit'],
  ])('CON-SEC-001: the schema refuses %j (path %s)', (input, path) => {
    const r = passwordPolicySchema.safeParse(input);
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.path.join('.'))).toContain(path);
  });

  it('CON-SEC-001: the schema is strict: an unknown (misspelt) setting is an error, not ignored', () => {
    expect(passwordPolicySchema.safeParse({ minLenght: 20 }).success).toBe(false);
  });

  it('CON-SEC-001: min = max is allowed (both at the 64..128 overlap)', () => {
    expect(passwordPolicySchema.safeParse({ minLength: 64, maxLength: 64 }).success).toBe(true);
  });
});

describe('checkPassword rules (FR-AUTH-006)', () => {
  it('FR-AUTH-006: a random passphrase passes the default policy', () => {
    expect(checkPassword(GOOD, DEFAULT_PASSWORD_POLICY, { email: 'alice@example.com', tenantDomain: 'acme' })).toEqual([]);
    expect(checkPassword('Tq9#mZ2!vL8@xR4$', DEFAULT_PASSWORD_POLICY)).toEqual([]);
  });

  it('FR-AUTH-006: min_length and max_length', () => {
    expect(rules('zkqwvbnmplx', policy({ rejectCommon: false }))).toEqual(['min_length']);
    expect(rules('zkqwvbnmplxr', policy({ rejectCommon: false }))).toEqual([]);
    expect(rules('x'.repeat(129), policy({ rejectCommon: false }))).toEqual(['max_length']);
    expect(rules('x'.repeat(128), policy({ rejectCommon: false }))).toEqual([]);
  });

  it('FR-AUTH-006: no silent truncation: 200 characters with maxLength 128 is refused with max_length', () => {
    const long = 'correct horse battery staple '.repeat(7).slice(0, 200);
    expect([...long]).toHaveLength(200);
    expect(rules(long)).toEqual(['max_length']);
    // …and its first 128 characters alone would have been fine: the 200-char one is refused, not cut.
    expect(rules(long.slice(0, 128))).toEqual([]);
  });

  it.each([
    ['requireLowercase', 'lowercase', 'ALL-CAPS-PASSPHRASE-1', 'ALL-CAPS-PASSPHRASe-1'],
    ['requireUppercase', 'uppercase', 'no-capitals-in-here-1', 'No-capitals-in-here-1'],
    ['requireDigit', 'digit', 'no-digits-in-here-at-all', 'one-digit-in-here-9'],
    ['requireSymbol', 'symbol', 'NoSymbolsInHere2026', 'OneSymbolInHere2026!'],
  ] as const)('FR-AUTH-006: %s → %s', (setting, rule, bad, good) => {
    const p = policy({ [setting]: true });
    expect(rules(bad, p)).toEqual([rule]);
    expect(rules(good, p)).toEqual([]);
    // Off by default (NIST discourages composition rules):
    expect(rules(bad)).toEqual([]);
  });

  it('FR-AUTH-006: character classes are Unicode-aware (é lowercase, Ä uppercase, full-width 1 a digit, space a symbol)', () => {
    const all = policy({ requireLowercase: true, requireUppercase: true, requireDigit: true, requireSymbol: true });
    expect(rules('ÄBCDEFGHIJKé１ ', all)).toEqual([]);
    expect(rules('ひらがなだけのパスワードです', all)).toEqual(['lowercase', 'uppercase', 'digit', 'symbol']);
  });

  it('FR-AUTH-006: every violated rule is reported, in a stable order', () => {
    const all = policy({ requireLowercase: true, requireUppercase: true, requireDigit: true, requireSymbol: true });
    expect(rules('password', all, { email: 'password@example.com' })).toEqual(['min_length', 'uppercase', 'digit', 'symbol', 'common', 'contextual']);
  });
});

describe('Length counts code points after NFC (FR-AUTH-006)', () => {
  const p12 = policy({ rejectCommon: false, rejectContextual: false });

  it('FR-AUTH-006: an emoji is one character, not two UTF-16 units', () => {
    const eleven = '🔒'.repeat(11); // 22 UTF-16 units
    expect(eleven.length).toBe(22);
    expect(rules(eleven, p12)).toEqual(['min_length']);
    expect(rules('🔒'.repeat(12), p12)).toEqual([]);
    expect(rules('🔒'.repeat(129), p12)).toEqual(['max_length']);
    expect(rules('🔒'.repeat(128), p12)).toEqual([]);
  });

  it('FR-AUTH-006: composed é (U+00E9) and decomposed e + U+0301 count the same: one character each', () => {
    const composed = 'caf\u00e9caf\u00e9caf\u00e9'; // 12 code points
    const decomposed = 'cafe\u0301cafe\u0301cafe\u0301'; // 15 code points before NFC, 12 after
    expect([...composed]).toHaveLength(12);
    expect([...decomposed]).toHaveLength(15);
    expect(rules(composed, p12)).toEqual([]);
    expect(rules(decomposed, p12)).toEqual([]);
  });

  it('FR-AUTH-006: NFC decides the verdict: 13 code points as typed, 11 after NFC, is too short', () => {
    const typed = 'cafe\u0301cafe\u0301caf';
    expect([...typed]).toHaveLength(13);
    expect(rules(typed, p12)).toEqual(['min_length']);
    // …and 256 code points as typed, 128 after NFC, is not too long.
    expect(rules('e\u0301'.repeat(128), p12)).toEqual([]);
    expect(rules('e\u0301'.repeat(129), p12)).toEqual(['max_length']);
  });

  it('FR-AUTH-006: a combining mark that has no composed form is still its own code point', () => {
    // q + U+0301 has no precomposed character: 2 code points, so 6 of them are 12.
    expect(rules('q\u0301'.repeat(6), p12)).toEqual([]);
    expect(rules('q\u0301'.repeat(5) + 'q', p12)).toEqual(['min_length']);
  });

  it('FR-AUTH-006: the contextual comparison applies NFC to both the password and the context', () => {
    expect(rules('my-cafe\u0301-is-open', policy(), { tenantDomain: 'caf\u00e9' })).toEqual(['contextual']);
    expect(rules('my-caf\u00e9-is-open', policy(), { email: 'cafe\u0301@example.com' })).toEqual(['contextual']);
  });
});

describe('Common passwords (FR-AUTH-006)', () => {
  it('FR-AUTH-006: the shipped list has at least 10,000 distinct, lowercased, NFC entries', () => {
    expect(commonPasswordCount()).toBeGreaterThanOrEqual(10_000);
    const entries = COMMON_PASSWORDS_TEXT.split('\n').filter((e) => e !== '');
    expect(new Set(entries).size).toBe(entries.length);
    expect(entries.length).toBe(commonPasswordCount());
    for (const e of entries) {
      if (e !== e.toLowerCase() || e !== e.normalize('NFC') || e !== e.trim()) throw new Error(`bad entry at index ${entries.indexOf(e)}`);
    }
    expect(entries.slice(0, 2)).toEqual(['123456', 'password']);
  });

  it.each(['password', '123456', 'qwerty123', 'Password1234', 'PASSWORD', 'iloveyou', 'trustno1', 'P@ssw0rd', 'letmein2024', 'dragon1', 'monkey12'])(
    'FR-AUTH-006: %s is refused as common',
    (pw) => {
      expect(isCommonPassword(pw)).toBe(true);
      expect(rules(pw, policy({ minLength: 8 }))).toContain('common');
    },
  );

  it.each([GOOD, 'Tq9#mZ2!vL8@xR4$', 'password-manager-generated-passphrase', 'password12345x', 'xpassword'])('FR-AUTH-006: %s is not common', (pw) => {
    expect(isCommonPassword(pw)).toBe(false);
  });

  it('FR-AUTH-006: only up to 4 trailing digits are stripped, and a bare number suffix alone is not a match', () => {
    expect(isCommonPassword('sunshine9876')).toBe(true);
    // 5 digits: "sunshine" + 4 is the most stripped, and no "sunshine9".."sunshine9876" is itself listed.
    expect(isCommonPassword('sunshine98765')).toBe(false);
    expect(isCommonPassword('7')).toBe(false);
  });

  it('FR-AUTH-006: rejectCommon: false turns the check off', () => {
    expect(rules('password1234', policy({ rejectCommon: false }))).toEqual([]);
  });
});

describe('Contextual passwords (FR-AUTH-006)', () => {
  const ctx = { email: 'Alice.Liddell+work@Example.com', tenantDomain: 'acme' };

  it.each(['alice.liddell-rocks', 'ALICE.LIDDELL!2026', 'my-acme-passphrase', 'I love ACME rockets', 'alice.liddell+work/123'])(
    'FR-AUTH-006: %s contains the email local part or the tenant domain (case-insensitive)',
    (pw) => {
      expect(rules(pw, policy(), ctx)).toEqual(['contextual']);
    },
  );

  it('FR-AUTH-006: parts shorter than 4 characters are not checked', () => {
    expect(rules('kebobs-are-tasty', policy(), { email: 'bob@example.com', tenantDomain: 'ab' })).toEqual([]);
    expect(rules('bobby-tables-forever', policy(), { email: 'bobb@example.com' })).toEqual(['contextual']);
  });

  it('FR-AUTH-006: the domain part of the email is not a forbidden substring', () => {
    expect(rules('example-of-a-passphrase', policy(), ctx)).toEqual([]);
  });

  it('FR-AUTH-006: rejectContextual: false turns the check off; no context, no check', () => {
    expect(rules('my-acme-passphrase', policy({ rejectContextual: false }), ctx)).toEqual([]);
    expect(rules('my-acme-passphrase', policy())).toEqual([]);
  });
});

describe('assertPasswordAcceptable (ERR-VAL-422)', () => {
  it('ERR-VAL-422: lists every violation as a FieldIssue on /password, without the password text', () => {
    const secret = 'Password1234';
    let caught: unknown;
    try {
      assertPasswordAcceptable(secret, policy({ requireSymbol: true, minLength: 16 }), { email: 'password@example.com' });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(BusinessRuleError);
    const err = caught as BusinessRuleError;
    expect(err.code).toBe('ERR-VAL-422');
    expect(err.status).toBe(422);
    expect(err.issues.map((i) => i.detail.split(':')[0])).toEqual(['min_length', 'symbol', 'common', 'contextual']);
    for (const issue of err.issues) {
      expect(issue).toMatchObject({ location: 'body', pointer: '/password' });
      expect(issue.detail).toMatch(/^[a-z_]+: \S/);
    }
    const everything = JSON.stringify({ message: err.message, detail: err.detail, reason: err.reason, issues: err.issues });
    expect(everything.toLowerCase()).not.toContain(secret.toLowerCase());
    expect(everything).not.toContain('example.com');
  });

  it('ERR-VAL-422: an acceptable password does not throw', () => {
    expect(() => assertPasswordAcceptable(GOOD, DEFAULT_PASSWORD_POLICY, { email: 'alice@example.com', tenantDomain: 'acme' })).not.toThrow();
  });
});

describe('describePolicy (FR-AUTH-006)', () => {
  it('FR-AUTH-006: the default policy in short sentences', () => {
    expect(describePolicy(DEFAULT_PASSWORD_POLICY)).toEqual([
      'At least 12 characters',
      'At most 128 characters',
      'Not a commonly used password',
      "Does not contain your email name or your organization's domain",
    ]);
  });

  it('FR-AUTH-006: every enabled rule is described', () => {
    const all = describePolicy(policy({ minLength: 16, requireLowercase: true, requireUppercase: true, requireDigit: true, requireSymbol: true, rejectCommon: false, rejectContextual: false }));
    expect(all).toEqual([
      'At least 16 characters',
      'At most 128 characters',
      'At least one lowercase letter',
      'At least one uppercase letter',
      'At least one digit',
      'At least one symbol (neither a letter nor a digit)',
    ]);
  });
});
