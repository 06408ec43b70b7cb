import { GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { InternalError } from '../../domain/errors';
import { passwordPolicySchema } from '../../domain/identity/password-policy';
import type { FlagValue } from '../../domain/model';
import { DEFAULT_TENANT_SETTINGS, invitationExpiryDaysSchema, type SettingsStore, type TenantSettings } from '../../domain/tenant-settings';
import { decodeFlagItem } from './codecs';
import { DynamoFlagStore } from './flag-store';
import { translateDynamoError } from './errors';
import { keys, prefixEnd } from './keys';

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
          // `FLAG#`, not the `FLAG` state prefix: flags only, without the version item (SK `FLAG!VERSION`).
          KeyConditionExpression: 'PK = :pk AND SK BETWEEN :sk AND :skEnd',
          ExpressionAttributeValues: { ':pk': keys.tenantPartition(tenantId), ':sk': keys.flagPrefix, ':skEnd': prefixEnd(keys.flagPrefix) },
          ConsistentRead: true,
        }),
      );
      return (out.Items ?? []).map(decodeFlagItem);
    } catch (err) {
      throw translateDynamoError(err);
    }
  }

  /**
   * Idempotent: applying the same changes twice leaves the same flags. One transaction with the flag
   * version's increment (issue #5), never overwriting an override set meanwhile (see applyPlanChanges).
   */
  async applyFlagChanges(tenantId: string, changes: { put: FlagValue[]; remove: string[] }): Promise<void> {
    // The puts carry the change's time; a removal-only change has none, so it takes the current time.
    const at = changes.put[0]?.updatedAt ?? new Date().toISOString();
    await new DynamoFlagStore(this.db, this.table).applyPlanChanges(tenantId, changes, at);
  }
}
