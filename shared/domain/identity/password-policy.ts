/**
 * FR-AUTH-006 / CON-SEC-001: each tenant configures its password policy. Pure domain: evaluated when a
 * password is set (sign-up via invitation, reset, change), never at login — a policy tightened later must
 * not lock out existing users; they meet it at their next change.
 *
 * Defaults follow NIST SP 800-63B rev. 4: a length floor, a generous ceiling, a blocklist of common
 * passwords, no composition rules (they push users to `Password1!`). Composition rules exist because
 * tenants ask for them (APPI audits often check for them), and are off unless a tenant turns them on.
 */
import { z } from 'zod';
import { BusinessRuleError, type FieldIssue } from '../errors';
import { isCommonPassword } from './common-passwords';
import { normalizePassword, passwordLength } from './password-normalization';

export interface PasswordPolicy {
  /** Code points after NFC. 8 is NIST's absolute floor; 12 is the default. */
  readonly minLength: number;
  /**
   * Code points after NFC. At least 64 (NIST: permit at least 64, so passphrases and password managers
   * work), at most 1024 (argon2 would hash more, but nobody types it and it bounds request work).
   */
  readonly maxLength: number;
  readonly requireLowercase: boolean;
  readonly requireUppercase: boolean;
  readonly requireDigit: boolean;
  /** A symbol is any code point that is neither a letter nor a number: punctuation, spaces, emoji. */
  readonly requireSymbol: boolean;
  /** Refuse the passwords of common-passwords.data.ts, also with up to 4 trailing digits. */
  readonly rejectCommon: boolean;
  /** Refuse passwords containing the user's email local part or the tenant domain (when ≥ 4 characters). */
  readonly rejectContextual: boolean;
}

export const PASSWORD_POLICY_BOUNDS = {
  minLength: { min: 8, max: 128, default: 12 },
  maxLength: { min: 64, max: 1024, default: 128 },
} as const;

const { minLength: MIN, maxLength: MAX } = PASSWORD_POLICY_BOUNDS;

/**
 * The stored/API form (issue #4: tenant admins will edit it). Strict so a typo (`minLenght`) is an error,
 * not a silently ignored setting; omitted fields take the defaults, so `{}` is the default policy.
 */
export const passwordPolicySchema = z
  .strictObject({
    minLength: z.int().min(MIN.min).max(MIN.max).default(MIN.default),
    maxLength: z.int().min(MAX.min).max(MAX.max).default(MAX.default),
    requireLowercase: z.boolean().default(false),
    requireUppercase: z.boolean().default(false),
    requireDigit: z.boolean().default(false),
    requireSymbol: z.boolean().default(false),
    rejectCommon: z.boolean().default(true),
    rejectContextual: z.boolean().default(true),
  })
  .refine((p) => p.maxLength >= p.minLength, { path: ['maxLength'], message: 'maxLength must be greater than or equal to minLength' });

// Compile-time proof that the schema produces exactly a PasswordPolicy (and nothing the type lacks).
type SchemaOutput = z.output<typeof passwordPolicySchema>;
const _schemaMatchesType: [SchemaOutput extends PasswordPolicy ? true : false, PasswordPolicy extends SchemaOutput ? true : false] = [true, true];

export const DEFAULT_PASSWORD_POLICY: PasswordPolicy = Object.freeze(passwordPolicySchema.parse({}));

export const PASSWORD_RULES = ['min_length', 'max_length', 'lowercase', 'uppercase', 'digit', 'symbol', 'common', 'contextual'] as const;
/** Stable identifiers: the UI and API clients key translations and field hints on them. */
export type PasswordRule = (typeof PASSWORD_RULES)[number];

export interface PolicyViolation {
  readonly rule: PasswordRule;
  /** Safe to show: never contains the password, the email or the domain. */
  readonly message: string;
}

export interface PasswordContext {
  readonly email?: string;
  readonly tenantDomain?: string;
}

/** Parts shorter than this are too likely to occur by chance (`bob` in `kebobs`) to be refused. */
const MIN_CONTEXTUAL_PART = 4;

// Unicode-aware, so that non-Latin scripts count: `é` is lowercase, `Ä` uppercase, full-width `１` (common
// with Japanese IMEs) a digit. Caseless scripts (kana, kanji) satisfy neither case rule, which is why the
// case rules are off by default.
const LOWERCASE = /\p{Ll}/u;
const UPPERCASE = /\p{Lu}/u;
const DIGIT = /\p{Nd}/u;
// Neither a letter nor a number: punctuation, symbols, emoji, and also spaces (OWASP counts space as a
// special character, and refusing it would punish passphrases).
const SYMBOL = /[^\p{L}\p{N}]/u;

/** The email's local part and, for `alice+work@…`, `alice` too (subaddresses are per-site noise). */
function contextualParts(context: PasswordContext): string[] {
  const parts: string[] = [];
  if (context.email) {
    const email = normalizePassword(context.email).toLowerCase();
    const at = email.lastIndexOf('@');
    const local = at >= 0 ? email.slice(0, at) : email;
    parts.push(local);
    const plus = local.indexOf('+');
    if (plus > 0) parts.push(local.slice(0, plus));
  }
  if (context.tenantDomain) parts.push(normalizePassword(context.tenantDomain).toLowerCase());
  return parts.filter((p) => passwordLength(p) >= MIN_CONTEXTUAL_PART);
}

/**
 * Every rule the password breaks, in PASSWORD_RULES order (so clients can show them all at once rather
 * than one per attempt). Evaluated on the NFC form, the same one the hasher stores.
 */
export function checkPassword(password: string, policy: PasswordPolicy, context: PasswordContext = {}): PolicyViolation[] {
  const pw = normalizePassword(password);
  const length = passwordLength(pw);
  const violations: PolicyViolation[] = [];
  const add = (rule: PasswordRule, message: string): void => void violations.push({ rule, message });

  if (length < policy.minLength) add('min_length', `Must be at least ${policy.minLength} characters long.`);
  // Refused, never cut: silently truncating would let a user believe a longer password protects them.
  if (length > policy.maxLength) add('max_length', `Must be at most ${policy.maxLength} characters long.`);
  if (policy.requireLowercase && !LOWERCASE.test(pw)) add('lowercase', 'Must contain a lowercase letter.');
  if (policy.requireUppercase && !UPPERCASE.test(pw)) add('uppercase', 'Must contain an uppercase letter.');
  if (policy.requireDigit && !DIGIT.test(pw)) add('digit', 'Must contain a digit.');
  if (policy.requireSymbol && !SYMBOL.test(pw)) add('symbol', 'Must contain a symbol (a character that is neither a letter nor a digit).');
  if (policy.rejectCommon && isCommonPassword(pw)) add('common', 'Is a commonly used password and easy to guess.');
  if (policy.rejectContextual) {
    const lower = pw.toLowerCase();
    if (contextualParts(context).some((part) => lower.includes(part))) {
      add('contextual', "Must not contain the name part of your email address or your organization's domain.");
    }
  }
  return violations;
}

/** ERR-VAL-422 listing every violation as a FieldIssue on /password. */
export function assertPasswordAcceptable(password: string, policy: PasswordPolicy, context: PasswordContext = {}): void {
  const violations = checkPassword(password, policy, context);
  if (violations.length === 0) return;
  const issues: FieldIssue[] = violations.map((v) => ({ location: 'body', pointer: '/password', detail: `${v.rule}: ${v.message}` }));
  throw new BusinessRuleError("The password does not meet the organization's password policy.", issues);
}

/** Short sentences for the login/sign-up UI, in the same order as the rules. */
export function describePolicy(policy: PasswordPolicy): string[] {
  const lines = [`At least ${policy.minLength} characters`, `At most ${policy.maxLength} characters`];
  if (policy.requireLowercase) lines.push('At least one lowercase letter');
  if (policy.requireUppercase) lines.push('At least one uppercase letter');
  if (policy.requireDigit) lines.push('At least one digit');
  if (policy.requireSymbol) lines.push('At least one symbol (neither a letter nor a digit)');
  if (policy.rejectCommon) lines.push('Not a commonly used password');
  if (policy.rejectContextual) lines.push("Does not contain your email name or your organization's domain");
  return lines;
}
