/**
 * The one place that decides how a password's text is canonicalised before it is measured (password
 * policy) or hashed/verified (PasswordHasher adapters). Both must agree, otherwise a password accepted as
 * "12 characters" could be hashed as something else. Kept apart from the policy module so that the login
 * path (hasher only) does not load the common-password list.
 */

/**
 * Unicode NFC. The same visible password can reach us as different code point sequences: "é" is U+00E9
 * from most keyboards, but "e" + U+0301 (combining acute) from some macOS/iOS input paths, copy-paste from
 * PDFs, or certain IMEs. Without normalisation a user who set their password on one device could not log
 * in from another. NFC (canonical composition) only merges canonically equivalent sequences: it never
 * changes what the user sees and never folds distinct characters together (unlike NFKC, which would also
 * map full-width "ｐ" to "p"), so it costs no entropy.
 *
 * Never truncates: argon2 takes the whole input (no 72-byte limit as in bcrypt); the maximum length is a
 * policy decision (`PasswordPolicy.maxLength`) and is enforced, with an error, when a password is set.
 */
export function normalizePassword(password: string): string {
  return password.normalize('NFC');
}

/** Length as users count it: Unicode code points after NFC, not UTF-16 code units (an emoji is 1, not 2). */
export function passwordLength(normalizedPassword: string): number {
  let n = 0;
  // for..of iterates by code point; no intermediate array for long inputs.
  for (const _ of normalizedPassword) n++;
  return n;
}
