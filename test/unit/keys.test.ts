import { describe, expect, it } from 'vitest';
import { keys } from '../../shared/adapters/dynamo/keys';

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
