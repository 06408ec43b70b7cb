/**
 * FR-LOG-002: the export items (`PLATFORM#AUDITEXPORT` / `EXPORT#<id>`): status, filter, requester and,
 * once done, the result. Status changes are conditional updates, so a redelivered or concurrent queue
 * message can never take a Completed export back to Running or Failed.
 */
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { AUDIT_EXPORT_STATUSES, storedAuditFilter, type AuditExport, type AuditExportResult, type AuditExportStore } from '../../domain/audit-export';
import { ConflictError, InternalError } from '../../domain/errors';
import { translateDynamoError } from './errors';
import { keys } from './keys';

const ENTITY = 'AuditExport';

const exportItem = z.object({
  entity: z.literal(ENTITY),
  id: z.string(),
  status: z.enum(AUDIT_EXPORT_STATUSES),
  filter: storedAuditFilter,
  requestedBy: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
  attempts: z.number().int().min(0),
  rows: z.number().int().min(0).optional(),
  bytes: z.number().int().min(0).optional(),
  sha256: z.string().optional(),
  completedAt: z.string().optional(),
  auditRecordId: z.string().optional(),
  audited: z.boolean().optional(),
});

function isConditionFailure(err: unknown): boolean {
  return err instanceof Error && err.name === 'ConditionalCheckFailedException';
}

export class DynamoAuditExportStore implements AuditExportStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(e: AuditExport): Promise<void> {
    const item = {
      ...keys.auditExport(e.id),
      entity: ENTITY,
      id: e.id,
      status: e.status,
      filter: e.filter,
      requestedBy: e.requestedBy,
      createdAt: e.createdAt,
      expiresAt: e.expiresAt,
      attempts: e.attempts,
      // DynamoDB TTL removes the item some time after expiresAt; get() hides it from then on regardless.
      ttl: Math.floor(Date.parse(e.expiresAt) / 1000),
    };
    try {
      await this.db.send(new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(PK)' }));
    } catch (err) {
      if (isConditionFailure(err)) throw new ConflictError('An export with this id exists.');
      throw translateDynamoError(err);
    }
  }

  async get(id: string): Promise<AuditExport | undefined> {
    let out;
    try {
      out = await this.db.send(new GetCommand({ TableName: this.tableName, Key: keys.auditExport(id), ConsistentRead: true }));
    } catch (err) {
      throw translateDynamoError(err);
    }
    if (!out.Item) return undefined;
    const parsed = exportItem.safeParse(out.Item);
    if (!parsed.success) throw new InternalError(`corrupt audit export item: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`);
    const d = parsed.data;
    const result: AuditExportResult | undefined =
      d.rows !== undefined && d.bytes !== undefined && d.sha256 !== undefined && d.completedAt !== undefined ? { rows: d.rows, bytes: d.bytes, sha256: d.sha256, completedAt: d.completedAt } : undefined;
    return {
      id: d.id,
      status: d.status,
      filter: {
        tenantId: d.filter.tenantId,
        from: d.filter.from,
        to: d.filter.to,
        ...(d.filter.actorId !== undefined ? { actorId: d.filter.actorId } : {}),
        ...(d.filter.action !== undefined ? { action: d.filter.action } : {}),
        ...(d.filter.outcome !== undefined ? { outcome: d.filter.outcome } : {}),
      },
      requestedBy: d.requestedBy,
      createdAt: d.createdAt,
      expiresAt: d.expiresAt,
      attempts: d.attempts,
      ...(result ? { result } : {}),
      ...(d.auditRecordId !== undefined ? { auditRecordId: d.auditRecordId } : {}),
      ...(d.audited !== undefined ? { audited: d.audited } : {}),
    };
  }

  async start(id: string): Promise<boolean> {
    return this.update(id, 'SET #status = :running, attempts = attempts + :one', 'attribute_exists(PK) AND #status <> :completed', { ':running': 'Running', ':one': 1, ':completed': 'Completed' });
  }

  async complete(id: string, r: AuditExportResult, auditRecordId: string): Promise<boolean> {
    return this.update(
      id,
      'SET #status = :completed, #rows = :rows, #bytes = :bytes, sha256 = :sha, completedAt = :at, auditRecordId = :aid, audited = :false',
      'attribute_exists(PK) AND #status <> :completed',
      { ':completed': 'Completed', ':rows': r.rows, ':bytes': r.bytes, ':sha': r.sha256, ':at': r.completedAt, ':aid': auditRecordId, ':false': false },
      { '#rows': 'rows', '#bytes': 'bytes' },
    );
  }

  async markAudited(id: string): Promise<void> {
    await this.update(id, 'SET audited = :true', 'attribute_exists(PK)', { ':true': true });
  }

  async fail(id: string, at: string, reason: string): Promise<void> {
    await this.update(id, 'SET #status = :failed, failedAt = :at, failureReason = :reason', 'attribute_exists(PK) AND #status <> :completed', {
      ':failed': 'Failed',
      ':at': at,
      ':reason': reason,
      ':completed': 'Completed',
    });
  }

  /** False when the condition did not hold (the transition is not allowed from the item's state). */
  private async update(id: string, set: string, condition: string, values: Record<string, unknown>, names: Record<string, string> = {}): Promise<boolean> {
    // `status` (and, to be safe, `rows` and `bytes`) are DynamoDB reserved words.
    const allNames = { ...(set.includes('#status') || condition.includes('#status') ? { '#status': 'status' } : {}), ...names };
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.auditExport(id),
          UpdateExpression: set,
          ConditionExpression: condition,
          ...(Object.keys(allNames).length > 0 ? { ExpressionAttributeNames: allNames } : {}),
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw translateDynamoError(err);
    }
  }
}
