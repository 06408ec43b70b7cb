/**
 * The Auditor API's reads (FR-LOG-002): audit records of one partition — `TENANT#<id>` or
 * `PLATFORM#AUDIT` — in a time range, oldest first, as one Query on the base table:
 *
 *   PK = <partition> AND SK BETWEEN 'AUDIT#<from>' AND 'AUDIT#<to>'
 *
 * Sort keys are `AUDIT#<ISO timestamp>#<id>`, so the lower bound admits records stamped `from` and the
 * upper bound stops before any record stamped `to` ('AUDIT#<to>' sorts before 'AUDIT#<to>#…'): the
 * half-open range of shared/domain/audit-export.ts. No other item type of a tenant partition starts with
 * `AUDIT#`, so the range holds audit records only. actorId, action and outcome are a FilterExpression:
 * DynamoDB still reads (and bills) the records it drops, which the range bound keeps in proportion.
 */
import { QueryCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { AuditRecord } from '../../domain/audit';
import { AUDIT_PAGE_MAX, type AuditFilter, type AuditPage, type AuditSearch } from '../../domain/audit-export';
import { ValidationError } from '../../domain/errors';
import { decodeAudit } from './codecs';
import { translateDynamoError } from './errors';
import { keys } from './keys';

/** A page request stops after this many Query calls, so a very selective filter cannot hold a request long. */
const MAX_QUERIES_PER_PAGE = 10;

interface Plan {
  readonly pk: string;
  readonly lower: string;
  readonly upper: string;
  readonly input: Omit<QueryCommandInput, 'ExclusiveStartKey' | 'Limit'>;
}

function plan(tableName: string, f: AuditFilter): Plan {
  // The key builders fix the partition and the sort-key prefix; the bounds are "any id" at each end.
  const lowerKey = f.tenantId === null ? keys.platformAudit(f.from, '') : keys.tenantAudit(f.tenantId, f.from, '');
  const upperKey = f.tenantId === null ? keys.platformAudit(f.to, '') : keys.tenantAudit(f.tenantId, f.to, '');
  // keys.*Audit(ts, '') ends with the id separator; the bounds are the timestamp alone.
  const lower = lowerKey.SK.slice(0, -1);
  const upper = upperKey.SK.slice(0, -1);
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = { ':pk': lowerKey.PK, ':lower': lower, ':upper': upper };
  const conditions: string[] = [];
  const add = (attr: 'actorId' | 'action' | 'outcome', value: string | undefined): void => {
    if (value === undefined) return;
    // `action` is a DynamoDB reserved word; name every attribute the same way.
    names[`#${attr}`] = attr;
    values[`:${attr}`] = value;
    conditions.push(`#${attr} = :${attr}`);
  };
  add('actorId', f.actorId);
  add('action', f.action);
  add('outcome', f.outcome);
  return {
    pk: lowerKey.PK,
    lower,
    upper,
    input: {
      TableName: tableName,
      KeyConditionExpression: 'PK = :pk AND SK BETWEEN :lower AND :upper',
      ExpressionAttributeValues: values,
      ...(conditions.length > 0 ? { FilterExpression: conditions.join(' AND '), ExpressionAttributeNames: names } : {}),
      ScanIndexForward: true,
    },
  };
}

/**
 * The cursor is the base64url JSON of the table key to continue after. It is checked against the query it
 * is used with — same partition, inside the range — so a forged or stale cursor can aim the Query nowhere
 * else; any other string is a 400.
 */
function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify({ PK: key['PK'], SK: key['SK'] })).toString('base64url');
}

function decodeCursor(cursor: string, p: Plan): Record<string, string> {
  const invalid = (): ValidationError => new ValidationError('The cursor is not valid.', [{ location: 'query', pointer: '/cursor', detail: 'is not a cursor this API issued for this search' }]);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (typeof parsed !== 'object' || parsed === null) throw invalid();
  const { PK, SK } = parsed as Record<string, unknown>;
  if (PK !== p.pk || typeof SK !== 'string' || SK < p.lower || SK > p.upper) throw invalid();
  return { PK, SK };
}

export class DynamoAuditSearch implements AuditSearch {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Up to `limit` matching records. A Query evaluates up to `Limit` items before filtering, so with a filter
   * a page may take several calls; when more matches arrive than fit, the page ends at its last record and
   * the cursor is that record's key. A page that ran out of calls may be short, with a cursor.
   */
  async page(filter: AuditFilter, options: { readonly limit: number; readonly cursor?: string | undefined }): Promise<AuditPage> {
    const limit = Math.min(Math.max(1, Math.trunc(options.limit)), AUDIT_PAGE_MAX);
    const p = plan(this.tableName, filter);
    let start: Record<string, unknown> | undefined = options.cursor === undefined ? undefined : decodeCursor(options.cursor, p);
    const items: AuditRecord[] = [];
    try {
      for (let calls = 0; calls < MAX_QUERIES_PER_PAGE; calls++) {
        const remaining = limit - items.length;
        // Unfiltered, `remaining` is exact. Filtered, read more per call so sparse matches take few calls.
        const readLimit = p.input.FilterExpression === undefined ? remaining : Math.min(AUDIT_PAGE_MAX, Math.max(remaining, 200));
        const out = await this.db.send(new QueryCommand({ ...p.input, Limit: readLimit, ...(start ? { ExclusiveStartKey: start } : {}) }));
        const got = out.Items ?? [];
        for (let i = 0; i < got.length; i++) {
          items.push(decodeAudit(got[i]));
          if (items.length === limit) {
            const rest = i < got.length - 1 || out.LastEvaluatedKey !== undefined;
            // Stopped inside what this call read: continue after the last record returned.
            return { items, nextCursor: rest ? encodeCursor(got[i]!) : null };
          }
        }
        start = out.LastEvaluatedKey;
        if (start === undefined) return { items, nextCursor: null };
      }
    } catch (err) {
      throw translateDynamoError(err);
    }
    return { items, nextCursor: start === undefined ? null : encodeCursor(start) };
  }

  /** Pages of up to 1 MB (no Limit): one page's records in memory at a time. */
  async *all(filter: AuditFilter): AsyncGenerator<AuditRecord, void, undefined> {
    const p = plan(this.tableName, filter);
    let start: Record<string, unknown> | undefined;
    do {
      let out;
      try {
        out = await this.db.send(new QueryCommand({ ...p.input, ...(start ? { ExclusiveStartKey: start } : {}) }));
      } catch (err) {
        throw translateDynamoError(err);
      }
      for (const item of out.Items ?? []) yield decodeAudit(item);
      start = out.LastEvaluatedKey;
    } while (start !== undefined);
  }
}
