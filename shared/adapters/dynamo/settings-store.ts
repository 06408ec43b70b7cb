import { BatchWriteCommand, GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { InternalError } from '../../domain/errors';
import { passwordPolicySchema } from '../../domain/identity/password-policy';
import type { FlagValue } from '../../domain/model';
import { DEFAULT_TENANT_SETTINGS, invitationExpiryDaysSchema, type SettingsStore, type TenantSettings } from '../../domain/tenant-settings';
import { itemSchemas, toFlagItem } from './codecs';
import { translateDynamoError } from './errors';
import { keys } from './keys';

const settingsItem = z.object({ passwordPolicy: passwordPolicySchema, invitationExpiryDays: invitationExpiryDaysSchema });

/** Tenant settings (one item in the tenant's partition) and the tenant's flags. */
export class DynamoSettingsStore implements SettingsStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(tenantId: string): Promise<TenantSettings> {
    try {
      const out = await this.db.send(new GetCommand({ TableName: this.table, Key: keys.tenantSettings(tenantId), ConsistentRead: true }));
      if (!out.Item) return DEFAULT_TENANT_SETTINGS;
      const r = settingsItem.safeParse(out.Item);
      if (!r.success) throw new InternalError('corrupt tenant settings item');
      return r.data;
    } catch (err) {
      throw translateDynamoError(err);
    }
  }

  async put(tenantId: string, settings: TenantSettings, at: string): Promise<void> {
    try {
      await this.db.send(new PutCommand({ TableName: this.table, Item: { ...keys.tenantSettings(tenantId), entity: 'TenantSettings', ...settings, updatedAt: at } }));
    } catch (err) {
      throw translateDynamoError(err);
    }
  }

  async flags(tenantId: string): Promise<FlagValue[]> {
    try {
      const out = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)',
          ExpressionAttributeValues: { ':pk': keys.tenantPartition(tenantId), ':sk': 'FLAG#' },
          ConsistentRead: true,
        }),
      );
      return (out.Items ?? []).map((i) => {
        const { entity: _e, ...f } = itemSchemas.flag.parse(i);
        return f;
      });
    } catch (err) {
      throw translateDynamoError(err);
    }
  }

  /** Idempotent: applying the same changes twice leaves the same flags. */
  async applyFlagChanges(tenantId: string, changes: { put: FlagValue[]; remove: string[] }): Promise<void> {
    const requests = [
      ...changes.put.map((f) => ({ PutRequest: { Item: toFlagItem(f) } })),
      ...changes.remove.map((key) => ({ DeleteRequest: { Key: { ...keys.flag(tenantId, key) } } })),
    ];
    try {
      for (let i = 0; i < requests.length; i += 25) {
        let pending = requests.slice(i, i + 25);
        for (let attempt = 0; pending.length > 0; attempt++) {
          if (attempt > 8) throw new InternalError('flag update: unprocessed items after retries');
          const out = await this.db.send(new BatchWriteCommand({ RequestItems: { [this.table]: pending } }));
          pending = (out.UnprocessedItems?.[this.table] ?? []) as typeof pending;
          if (pending.length > 0) await new Promise((r) => setTimeout(r, 25 * 2 ** attempt));
        }
      }
    } catch (err) {
      throw translateDynamoError(err);
    }
  }
}
