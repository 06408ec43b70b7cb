/**
 * FR-AUTH-006 / CON-SEC-001 "reject common passwords" (NIST SP 800-63B §3.1.1.2: compare against a list of
 * commonly used or compromised values). The list itself is generated data: common-passwords.data.ts.
 */
import { COMMON_PASSWORDS_TEXT } from './common-passwords.data';

// Built once per process (Lambda execution environment), on first use, not at module load: every function
// bundles this module through the composition root, and building the 49k-entry set costs a cold start
// about 25 ms of CPU here (more on a 512 MB Lambda), which only the password-setting routes should pay.
let common: ReadonlySet<string> | undefined;
function commonSet(): ReadonlySet<string> {
  common ??= buildSet(COMMON_PASSWORDS_TEXT);
  return common;
}

function buildSet(text: string): Set<string> {
  const set = new Set(text.split('\n'));
  set.delete(''); // the template literal starts and ends with a newline
  return set;
}

/** How many distinct entries the check knows, for docs and tests. */
export function commonPasswordCount(): number {
  return commonSet().size;
}

/** The usual "make it pass the rule" suffix: `password` → `password1`, `password2024`. */
const MAX_TRAILING_DIGITS = 4;

function isAsciiDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

/**
 * True when the password, case-insensitively, is on the list, or is a listed password followed by up to
 * four ASCII digits (`Password1234`). Expects NFC input (see password-normalization.ts); the list is NFC
 * and lowercased by the generator. Deliberately simple: exact matches only, no leet-speak or substring
 * matching, so that a long passphrase that merely contains a common word is never refused.
 */
export function isCommonPassword(normalizedPassword: string): boolean {
  const candidate = normalizedPassword.toLowerCase();
  const listed = commonSet();
  if (listed.has(candidate)) return true;
  for (let k = 1; k <= MAX_TRAILING_DIGITS && k < candidate.length; k++) {
    if (!isAsciiDigit(candidate.charCodeAt(candidate.length - k))) break;
    if (listed.has(candidate.slice(0, candidate.length - k))) return true;
  }
  return false;
}
