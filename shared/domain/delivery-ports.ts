/**
 * Contracts between API keys (FR-SYS-002), flag management (FR-FLAG-001) and flag delivery
 * (FR-FLAG-002, OFREP) — issue #5. Implementations: shared/domain/apikeys.ts, shared/domain/flags.ts and
 * their adapters.
 */

/** The fixed list of scopes an API key may carry (004 FR-004, API-FLAG/BILL/LOG). */
export const API_KEY_SCOPES = ['flag:read', 'bill:write', 'bill:read', 'log:write'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/** Who is calling with an API key: the key and the application it belongs to. */
export interface ApiKeyPrincipal {
  readonly keyId: string;
  readonly appId: string;
  readonly scopes: readonly ApiKeyScope[];
}

export interface ApiKeyVerifier {
  /**
   * Verifies a presented key (id lookup, constant-time hash compare, expiry, key state, application
   * state). Throws AuthenticationError (401) for anything invalid. Positive results may be cached for a
   * bounded time (≤ 10 s) so revocation, expiry and app disable bite within 30 s (SC-003).
   */
  verify(presented: string): Promise<ApiKeyPrincipal>;
}

export type FlagType = 'boolean' | 'string' | 'number' | 'object';

export interface DeliveredFlag {
  readonly key: string;
  readonly type: FlagType;
  readonly value: boolean | string | number | Record<string, unknown> | unknown[];
  /** `plan`: the plan's default; `override`: set for this tenant by an operator. */
  readonly source: 'plan' | 'override';
}

export interface TenantFlags {
  /** Increases on every change of the tenant's flags (and on plan changes): the ETag's basis. */
  readonly version: number;
  readonly flags: readonly DeliveredFlag[];
}

export interface FlagReader {
  /** The tenant's current flags, one consistent read. */
  tenantFlags(tenantId: string): Promise<TenantFlags>;
}
