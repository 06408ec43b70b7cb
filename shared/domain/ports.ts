/**
 * Ports: what the domain needs from the outside world. Every port has an AWS adapter and a local one
 * (for DynamoDB the local adapter *is* the AWS adapter pointed at DynamoDB Local).
 */
import type { AuditRecord } from './audit';
import type { Plan, Tenant, TenantStatus } from './tenant';
import type { FlagValue, Invitation, OperatorUser, TenantUser } from './model';

export interface Clock {
  now(): Date;
}

export interface IdGenerator {
  uuid(): string;
  /** A high-entropy, URL-safe secret (invitation tokens, later reset tokens). */
  secretToken(): string;
}

export interface Page<T> {
  readonly items: readonly T[];
  /** Opaque; pass back to get the next page. Null when there is none. */
  readonly nextCursor: string | null;
}

/** Everything UC-PROV-001 creates, written all-or-nothing. */
export interface ProvisioningBundle {
  readonly tenant: Tenant;
  readonly owner: TenantUser;
  readonly invitation: Invitation;
  readonly flags: readonly FlagValue[];
}

/** GET /v1/tenants filters (issue #4). Prefixes match case-insensitively; all given filters must hold. */
export interface TenantSearch {
  readonly domainPrefix?: string | undefined;
  readonly namePrefix?: string | undefined;
  readonly status?: TenantStatus | undefined;
  readonly plan?: Plan | undefined;
}

export interface TenantStore {
  /** Throws ConflictError when the domain (or an id) is taken; writes nothing then. */
  provision(bundle: ProvisioningBundle): Promise<void>;
  get(tenantId: string): Promise<Tenant | undefined>;
  /**
   * Without a search: every tenant, oldest first. With one: prefix searches sort by domain or name,
   * status/plan filters alone by age. A page may hold fewer than `limit` items while `nextCursor` is set
   * (the read per call is bounded); only a null cursor means the end. Throws ValidationError for a cursor
   * this search did not issue.
   */
  list(options: { limit: number; cursor?: string | undefined; search?: TenantSearch | undefined }): Promise<Page<Tenant>>;
  /** Optimistic concurrency on updatedAt; keeps the purge queue in step with PendingDeletion. */
  save(tenant: Tenant, previous: Tenant): Promise<void>;
  /** Tenants whose grace period ended by `now` (FR-OPS-002). */
  purgeDue(now: Date, limit: number): Promise<string[]>;
  /** Deletes every item of the tenant; resumable and idempotent. Returns how many items it deleted. */
  purge(tenantId: string, now: Date): Promise<{ deletedItems: number; domain: string | null }>;
  isPurged(tenantId: string): Promise<boolean>;
  /**
   * Migration for tenants written before their search entries existed: rewrites the entries of up to
   * `limit` tenants from the cursor on (oldest first). Resumable by cursor, idempotent, safe alongside
   * live writes.
   */
  rebuildSearchIndex(options: { limit: number; cursor?: string | undefined }): Promise<{ rebuilt: number; nextCursor: string | null }>;
}

export interface OperatorIdentity {
  readonly issuer: string;
  readonly subject: string;
  readonly email: string | undefined;
}

export interface OperatorDirectory {
  /** FR-SYS-004: the first successful login creates the record; later logins reuse it. */
  findOrProvision(identity: OperatorIdentity, now: Date): Promise<{ user: OperatorUser; created: boolean }>;
}

export interface AuditLog {
  write(record: AuditRecord): Promise<void>;
}

export interface HealthProbe {
  /** Resolves when the datastore answers; rejects otherwise. */
  ping(): Promise<void>;
}
