import { describe, expect, it } from 'vitest';
import { keys, prefixEnd } from '../../shared/adapters/dynamo/keys';

describe('Key builders (tenant isolation is visible in the key)', () => {
  it('CON-SEC-007: every tenant-owned item lives in the TENANT#<id> partition', () => {
    const t = '6f1a2b3c-0000-4000-8000-000000000001';
    const owned = [keys.tenant(t), keys.user(t, 'u'), keys.userEmail(t, 'a@b.c'), keys.invitation(t, 'i'), keys.flag(t, 'f'), keys.tenantAudit(t, '2026', 'a')];
    for (const k of owned) expect(k.PK).toBe(`TENANT#${t}`);
  });

  it('FR-SYS-004: operator identity keys cannot collide across issuers', () => {
    expect(keys.operatorIdentity('https://a.example', 'x#y').SK).not.toBe(keys.operatorIdentity('https://a.example#x', 'y').SK);
  });
});

/** DynamoDB's order for string keys: their UTF-8 bytes. */
const utf8Order = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
const inRange = (key: string, prefix: string): boolean => utf8Order(key, prefix) >= 0 && utf8Order(key, prefixEnd(prefix)) <= 0;

describe('prefixEnd: key prefix queries as BETWEEN ranges', () => {
  const alphabet = ['a', 'z', '#', '%', '~', '\u0000', '\u007f', 'é', '\u4e2d', '\uffff', '😀', '\u{10FFFE}'];
  const pick = (n: number, seed: number): string => Array.from({ length: n }, (_, i) => alphabet[(seed * 7 + i * 13 + ((seed >> i) & 3)) % alphabet.length]).join('');

  it('NFR-CAP-001: the range holds exactly the keys that start with the prefix (any character but U+10FFFF)', () => {
    for (let seed = 0; seed < 400; seed++) {
      const prefix = pick(1 + (seed % 4), seed);
      for (let other = 0; other < 40; other++) {
        const key = pick(1 + (other % 7), seed * 31 + other);
        expect(inRange(key, prefix), `${JSON.stringify(key)} vs prefix ${JSON.stringify(prefix)}`).toBe(key.startsWith(prefix));
        expect(inRange(prefix + key, prefix)).toBe(true);
      }
    }
  });

  it('NFR-CAP-001: tenant names escape U+10FFFF, so no name search key can fall outside its range', () => {
    const name = keys.tenantSearch.name(`ab\u{10FFFF}cd`, 't1').GSI1SK;
    expect(name).not.toContain('\u{10FFFF}');
    const prefix = keys.tenantNameSearchPrefix('ab\u{10FFFF}');
    expect(name.startsWith(prefix)).toBe(true);
    expect(inRange(name, prefix)).toBe(true);
  });
});
