/**
 * The API's routes: one Lambda entry point each. The CDK stack creates a function and an API Gateway
 * method per route; the local server dispatches to the same entry modules. Pure data, see constants.ts.
 */
export type TableAccess = 'none' | 'read' | 'readwrite';

export interface RouteDef {
  /** Stable id, used for construct ids and function names. */
  readonly id: string;
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** API Gateway resource path; `{name}` marks a path parameter. */
  readonly path: string;
  /** Module exporting `handler`, relative to the project root. */
  readonly entry: string;
  /**
   * What the function may do to the table. `read` still includes PutItem, because every request may
   * write an audit record (a denial) or JIT-provision an operator (FR-SYS-004).
   */
  readonly table: TableAccess;
  readonly description: string;
  /**
   * The handler hashes or verifies passwords: its function ships the native argon2 addon next to the
   * bundle (esbuild cannot bundle `.node` files) and runs on x86_64 to match the prebuilt binary.
   */
  readonly passwordHashing?: true;
  /** The handler sends mail (invitations, resets): its function may call SES SendEmail from MAIL_SENDER. */
  readonly sendsMail?: true;
  /** Queues (besides the audit queue, which every function sends to) the handler sends messages to. */
  readonly sendsTo?: readonly QueueId[];
  /** Request bodies up to this many bytes (default MAX_JSON_BODY_BYTES): the ingestion batches. */
  readonly maxBodyBytes?: number;
  /**
   * The id of another route whose function serves this one too: the same module answering a second HTTP
   * method (OIDC's GET-or-POST endpoints). Such a route gets an API method and an invoke permission but
   * no function, role or log group of its own, so it costs the regional stack two resources instead of
   * seven (ADR-0011). Entry and every permission-bearing field must equal the owner's.
   */
  readonly sharesFunctionOf?: string;
}

/** Issue #6: the ingestion queues. Every function may send to `audit` (FR-LOG-003 records flow through it). */
export type QueueId = 'audit' | 'billing' | 'export';

export const ROUTES: readonly RouteDef[] = [
  {
    id: 'HealthLive',
    method: 'GET',
    path: '/health',
    entry: 'functions/health/live.ts',
    table: 'none',
    description: 'Liveness: no dependencies',
  },
  {
    id: 'HealthReady',
    method: 'GET',
    path: '/ready',
    entry: 'functions/health/ready.ts',
    table: 'read',
    description: 'Readiness: the table answers',
  },
  {
    id: 'TenantsCreate',
    method: 'POST',
    path: '/v1/tenants',
    entry: 'functions/tenants/create.ts',
    table: 'readwrite',
    description: 'UC-PROV-001: provision a tenant',
    sendsMail: true,
  },
  {
    id: 'TenantsList',
    method: 'GET',
    path: '/v1/tenants',
    entry: 'functions/tenants/list.ts',
    table: 'read',
    description: 'List tenants (cursor pagination)',
  },
  {
    id: 'TenantsGet',
    method: 'GET',
    path: '/v1/tenants/{id}',
    entry: 'functions/tenants/get.ts',
    table: 'read',
    description: 'Get one tenant',
  },
  // --- OpenID Connect provider (issue #3). Public endpoints: the handlers authenticate clients themselves.
  { id: 'OidcDiscovery', method: 'GET', path: '/.well-known/openid-configuration', entry: 'functions/oidc/discovery.ts', table: 'none', description: 'OpenID Provider metadata' },
  { id: 'OidcJwks', method: 'GET', path: '/.well-known/jwks.json', entry: 'functions/oidc/jwks.ts', table: 'read', description: 'Token signing keys (public)' },
  { id: 'OidcAuthorize', method: 'GET', path: '/authorize', entry: 'functions/oidc/authorize.ts', table: 'readwrite', description: 'Authorization endpoint (code flow + PKCE)' },
  // OIDC Core §3.1.2.1: the authorization endpoint MUST support POST (form-encoded parameters) too.
  { id: 'OidcAuthorizePost', method: 'POST', path: '/authorize', entry: 'functions/oidc/authorize.ts', table: 'readwrite', description: 'Authorization endpoint (POST)', sharesFunctionOf: 'OidcAuthorize' },
  { id: 'OidcLoginPage', method: 'GET', path: '/login', entry: 'functions/oidc/login.ts', table: 'read', description: 'Universal Login Page' },
  { id: 'OidcLoginSubmit', method: 'POST', path: '/login', entry: 'functions/oidc/login.ts', table: 'readwrite', description: 'Universal Login: password step', passwordHashing: true },
  { id: 'OidcToken', method: 'POST', path: '/token', entry: 'functions/oidc/token.ts', table: 'readwrite', description: 'Token endpoint' },
  { id: 'OidcUserinfoGet', method: 'GET', path: '/userinfo', entry: 'functions/oidc/userinfo.ts', table: 'read', description: 'UserInfo endpoint' },
  { id: 'OidcUserinfoPost', method: 'POST', path: '/userinfo', entry: 'functions/oidc/userinfo.ts', table: 'read', description: 'UserInfo endpoint (POST)', sharesFunctionOf: 'OidcUserinfoGet' },
  { id: 'OidcRevoke', method: 'POST', path: '/revoke', entry: 'functions/oidc/revoke.ts', table: 'readwrite', description: 'Token revocation (RFC 7009)' },
  { id: 'OidcIntrospect', method: 'POST', path: '/introspect', entry: 'functions/oidc/introspect.ts', table: 'read', description: 'Token introspection (RFC 7662)' },
  { id: 'OidcLogout', method: 'GET', path: '/logout', entry: 'functions/oidc/logout.ts', table: 'readwrite', description: 'RP-initiated logout' },
  // RP-Initiated Logout 1.0 §2: GET and POST; the confirmation form posts here as well.
  { id: 'OidcLogoutPost', method: 'POST', path: '/logout', entry: 'functions/oidc/logout.ts', table: 'readwrite', description: 'RP-initiated logout (POST) and its confirmation', sharesFunctionOf: 'OidcLogout' },
  { id: 'InvitationPage', method: 'GET', path: '/invitations/accept', entry: 'functions/oidc/accept-invitation.ts', table: 'readwrite', description: 'Accept an invitation: choose a password' },
  { id: 'InvitationAccept', method: 'POST', path: '/invitations/accept', entry: 'functions/oidc/accept-invitation.ts', table: 'readwrite', description: 'Accept an invitation', passwordHashing: true },
  { id: 'PasswordForgotPage', method: 'GET', path: '/password/forgot', entry: 'functions/oidc/forgot-password.ts', table: 'read', description: 'Forgot password form' },
  { id: 'PasswordForgotSubmit', method: 'POST', path: '/password/forgot', entry: 'functions/oidc/forgot-password.ts', table: 'readwrite', description: 'Request a password reset mail', sendsMail: true },
  { id: 'PasswordResetPage', method: 'GET', path: '/password/reset', entry: 'functions/oidc/reset-password.ts', table: 'read', description: 'Choose a new password' },
  { id: 'PasswordResetSubmit', method: 'POST', path: '/password/reset', entry: 'functions/oidc/reset-password.ts', table: 'readwrite', description: 'Set a new password', passwordHashing: true, sendsMail: true },
  // --- Applications (FR-SYS-001/003) and their enablement per tenant (UC-PROV-001 step 3)
  { id: 'AppsRegister', method: 'POST', path: '/v1/apps', entry: 'functions/apps/register.ts', table: 'readwrite', description: 'Register a managed application' },
  { id: 'AppsList', method: 'GET', path: '/v1/apps', entry: 'functions/apps/list.ts', table: 'read', description: 'List applications' },
  { id: 'AppsGet', method: 'GET', path: '/v1/apps/{id}', entry: 'functions/apps/get.ts', table: 'read', description: 'Get an application' },
  { id: 'AppsUpdate', method: 'PATCH', path: '/v1/apps/{id}', entry: 'functions/apps/update.ts', table: 'readwrite', description: 'Update or disable an application' },
  { id: 'AppsRotateSecret', method: 'POST', path: '/v1/apps/{id}/secret', entry: 'functions/apps/rotate-secret.ts', table: 'readwrite', description: 'Rotate a client secret' },
  { id: 'TenantsSuspend', method: 'POST', path: '/v1/tenants/{id}/suspend', entry: 'functions/tenants/suspend.ts', table: 'readwrite', description: 'Suspend a tenant (FR-OPS-001)' },
  { id: 'TenantsRestore', method: 'POST', path: '/v1/tenants/{id}/restore', entry: 'functions/tenants/restore.ts', table: 'readwrite', description: 'Restore a suspended or deleted tenant' },
  { id: 'TenantsDelete', method: 'DELETE', path: '/v1/tenants/{id}', entry: 'functions/tenants/delete.ts', table: 'readwrite', description: 'Delete a tenant after a grace period (FR-OPS-002)' },
  { id: 'TenantsEnableApp', method: 'PUT', path: '/v1/tenants/{id}/apps/{appId}', entry: 'functions/tenants/enable-app.ts', table: 'readwrite', description: 'Enable an application for a tenant' },
  { id: 'TenantsDisableApp', method: 'DELETE', path: '/v1/tenants/{id}/apps/{appId}', entry: 'functions/tenants/disable-app.ts', table: 'readwrite', description: 'Disable an application for a tenant' },
  // --- Tenant administration (issue #4): tenant Owners/Administrators with user tokens, or operators
  { id: 'TenantsSettingsGet', method: 'GET', path: '/v1/tenants/{id}/settings', entry: 'functions/tenants/settings-get.ts', table: 'read', description: 'Tenant settings' },
  { id: 'TenantsSettingsUpdate', method: 'PATCH', path: '/v1/tenants/{id}/settings', entry: 'functions/tenants/settings-update.ts', table: 'readwrite', description: 'Edit password policy and invitation expiry' },
  { id: 'TenantsPlan', method: 'PUT', path: '/v1/tenants/{id}/plan', entry: 'functions/tenants/plan.ts', table: 'readwrite', description: 'Change the plan (FR-TENANT-003)' },
  { id: 'UsersList', method: 'GET', path: '/v1/tenants/{id}/users', entry: 'functions/users/list.ts', table: 'read', description: 'List and search users' },
  { id: 'UsersInvite', method: 'POST', path: '/v1/tenants/{id}/invitations', entry: 'functions/users/invite.ts', table: 'readwrite', description: 'Invite a user (FR-TENANT-001)', sendsMail: true },
  { id: 'UsersResendInvitation', method: 'POST', path: '/v1/tenants/{id}/users/{userId}/invitation', entry: 'functions/users/resend.ts', table: 'readwrite', description: 'Resend an invitation (FR-TENANT-007)', sendsMail: true },
  { id: 'UsersUpdate', method: 'PATCH', path: '/v1/tenants/{id}/users/{userId}', entry: 'functions/users/update.ts', table: 'readwrite', description: 'Change role or status (FR-TENANT-004/006)' },
  { id: 'UsersDelete', method: 'DELETE', path: '/v1/tenants/{id}/users/{userId}', entry: 'functions/users/delete.ts', table: 'readwrite', description: 'Delete a user (FR-TENANT-002)' },
  // CON-COMP-001 data subject rights. The export is a read but 'readwrite': it writes its audit record into the tenant's partition.
  { id: 'UsersDataExport', method: 'GET', path: '/v1/tenants/{id}/users/{userId}/export', entry: 'functions/users/export.ts', table: 'readwrite', description: "Export a user's personal data (CON-COMP-001)" },
  { id: 'UsersDataRectify', method: 'PATCH', path: '/v1/tenants/{id}/users/{userId}/profile', entry: 'functions/users/rectify.ts', table: 'readwrite', description: "Rectify a user's email (CON-COMP-001)" },
  { id: 'UsersDataErase', method: 'POST', path: '/v1/tenants/{id}/users/{userId}/erase', entry: 'functions/users/erase.ts', table: 'readwrite', description: 'Erase a user by pseudonymisation (CON-COMP-001)' },
  { id: 'SessionsList', method: 'GET', path: '/v1/tenants/{id}/users/{userId}/sessions', entry: 'functions/sessions/list.ts', table: 'read', description: "List a user's sessions" },
  { id: 'SessionsRevokeAll', method: 'DELETE', path: '/v1/tenants/{id}/users/{userId}/sessions', entry: 'functions/sessions/revoke-all.ts', table: 'readwrite', description: "Revoke all of a user's sessions" },
  { id: 'SessionsRevoke', method: 'DELETE', path: '/v1/tenants/{id}/users/{userId}/sessions/{sessionId}', entry: 'functions/sessions/revoke.ts', table: 'readwrite', description: 'Revoke one session' },
  { id: 'MePasswordChange', method: 'POST', path: '/v1/me/password', entry: 'functions/me/password.ts', table: 'readwrite', description: 'Change my password (user access token)', passwordHashing: true, sendsMail: true },
  // --- Flag delivery to managed applications (FR-FLAG-002) and OFREP (issue #5): API-key authenticated
  { id: 'FlagsDelivery', method: 'GET', path: '/v1/flags', entry: 'functions/delivery/flags.ts', table: 'read', description: "A tenant's flags for an application (API-FLAG)" },
  { id: 'OfrepEvaluateOne', method: 'POST', path: '/ofrep/v1/evaluate/flags/{key}', entry: 'functions/delivery/ofrep-one.ts', table: 'read', description: 'OFREP single flag evaluation' },
  { id: 'OfrepEvaluateAll', method: 'POST', path: '/ofrep/v1/evaluate/flags', entry: 'functions/delivery/ofrep-bulk.ts', table: 'read', description: 'OFREP bulk evaluation' },
  // --- API access keys (issue #5, FR-SYS-002): developers and operators
  { id: 'ApiKeysCreate', method: 'POST', path: '/v1/apps/{id}/keys', entry: 'functions/apikeys/create.ts', table: 'readwrite', description: 'Issue an API access key (shown once)' },
  { id: 'ApiKeysList', method: 'GET', path: '/v1/apps/{id}/keys', entry: 'functions/apikeys/list.ts', table: 'read', description: "List an application's API keys" },
  { id: 'ApiKeysRevoke', method: 'DELETE', path: '/v1/apps/{id}/keys/{keyId}', entry: 'functions/apikeys/revoke.ts', table: 'readwrite', description: 'Revoke an API access key' },
  // --- Feature flags per tenant (FR-FLAG-001, issue #5): operators only
  { id: 'FlagsList', method: 'GET', path: '/v1/tenants/{id}/flags', entry: 'functions/flags/list.ts', table: 'read', description: "List a tenant's flags and their version" },
  { id: 'FlagsSet', method: 'PUT', path: '/v1/tenants/{id}/flags/{key}', entry: 'functions/flags/set.ts', table: 'readwrite', description: 'Set a flag override for a tenant' },
  { id: 'FlagsUnset', method: 'DELETE', path: '/v1/tenants/{id}/flags/{key}', entry: 'functions/flags/delete.ts', table: 'readwrite', description: 'Remove a flag override (the plan default returns)' },
  // --- Billing and audit ingestion, export and verification (issue #6)
  { id: 'BillingIngest', method: 'POST', path: '/v1/billing/events', entry: 'functions/billing/ingest.ts', table: 'read', description: 'Report billing events (API-BILL, bill:write)', sendsTo: ['billing'], maxBodyBytes: 1024 * 1024 },
  { id: 'BillingExport', method: 'GET', path: '/v1/billing/events', entry: 'functions/billing/export.ts', table: 'read', description: 'Billing events of a tenant and period (FR-BILL-003, bill:read)' },
  { id: 'BillingSummary', method: 'GET', path: '/v1/billing/summary', entry: 'functions/billing/summary.ts', table: 'read', description: 'Per-type sums of a tenant and period (FR-BILL-003, bill:read)' },
  { id: 'AuditIngest', method: 'POST', path: '/v1/audit/events', entry: 'functions/audit/ingest.ts', table: 'read', description: 'Report audit events (API-LOG, log:write)', maxBodyBytes: 1024 * 1024 },
  { id: 'AuditQuery', method: 'GET', path: '/v1/audit/events', entry: 'functions/audit/query.ts', table: 'read', description: 'Search audit logs (Auditors)' },
  { id: 'AuditExportCreate', method: 'POST', path: '/v1/audit/exports', entry: 'functions/audit/export-create.ts', table: 'readwrite', description: 'Start a CSV export of audit logs (FR-LOG-002)', sendsTo: ['export'] },
  { id: 'AuditExportGet', method: 'GET', path: '/v1/audit/exports/{id}', entry: 'functions/audit/export-get.ts', table: 'read', description: 'Status of an export and its download link' },
  { id: 'AuditDigestsList', method: 'GET', path: '/v1/audit/digests', entry: 'functions/audit/digests.ts', table: 'read', description: 'Signed audit digests (tamper evidence)' },
  { id: 'AuditDigestRecords', method: 'GET', path: '/v1/audit/digests/{seq}/records', entry: 'functions/audit/digest-records.ts', table: 'read', description: 'The stored records a digest covers, for verification' },
  { id: 'KeysRotate', method: 'POST', path: '/v1/keys/rotate', entry: 'functions/keys/rotate.ts', table: 'readwrite', description: 'Rotate the token signing key' },
];

/**
 * The route whose function serves `route`: itself, or the owner named by `sharesFunctionOf`. Throws when
 * the owner is missing, shares in turn, or differs in anything that shapes the function or its role, so
 * that sharing can never widen or narrow what a route may do.
 */
export function functionRouteOf(route: RouteDef, routes: readonly RouteDef[] = ROUTES): RouteDef {
  if (route.sharesFunctionOf === undefined) return route;
  const owner = routes.find((r) => r.id === route.sharesFunctionOf);
  if (!owner) throw new Error(`route ${route.id}: sharesFunctionOf ${route.sharesFunctionOf} is not a route`);
  if (owner.sharesFunctionOf !== undefined) throw new Error(`route ${route.id}: ${owner.id} shares a function itself`);
  const shape = (r: RouteDef): string => JSON.stringify([r.entry, r.table, r.passwordHashing ?? false, r.sendsMail ?? false, [...(r.sendsTo ?? [])].sort(), r.maxBodyBytes ?? null]);
  if (shape(route) !== shape(owner)) throw new Error(`route ${route.id}: entry, table access, argon2, mail, queues and body limit must equal those of ${owner.id}`);
  return owner;
}

/**
 * CORS preflights (OPTIONS) for browser apps, single-page apps with a public client, that call the OpenID
 * endpoints from their own origin. The gateway answers them itself (API Gateway: a MOCK method; local
 * mode: the same answer), permissively, since a preflight grants nothing: each actual response carries
 * its own Access-Control-Allow-Origin, decided by the handler (shared/http/web.ts `cors`). /token and
 * /revoke with a form body are simple requests and need no preflight, but some clients add headers.
 */
export const CORS_PREFLIGHTS: readonly { readonly path: string; readonly methods: readonly ('GET' | 'POST')[] }[] = [
  { path: '/token', methods: ['POST'] },
  { path: '/revoke', methods: ['POST'] },
  { path: '/userinfo', methods: ['GET', 'POST'] },
];
export const CORS_ALLOW_HEADERS: readonly string[] = ['authorization', 'content-type'];
export const CORS_MAX_AGE_SECONDS = 600;

/** The routes that own a Lambda function (every route not served by another's). */
export const FUNCTION_ROUTES: readonly RouteDef[] = ROUTES.filter((r) => functionRouteOf(r) === r);

/** Scheduled functions: an EventBridge schedule in AWS, a timer in local mode, the same module in both. */
export interface JobDef {
  readonly id: string;
  readonly entry: string;
  /** EventBridge schedule expression. */
  readonly schedule: string;
  /** Local mode runs the job this often. */
  readonly localIntervalSeconds: number;
  readonly table: TableAccess;
  readonly description: string;
  /** Function timeout (default 10 s, as for API routes). */
  readonly timeoutSeconds?: number;
}

export const JOBS: readonly JobDef[] = [
  {
    id: 'PurgeTenants',
    entry: 'functions/jobs/purge-tenants.ts',
    schedule: 'rate(1 hour)',
    localIntervalSeconds: 60,
    table: 'readwrite',
    description: 'FR-OPS-002: purge tenants whose deletion grace period has ended',
    // Table walks and archive partitions of up to 25 tenants per run.
    timeoutSeconds: 300,
  },
  {
    id: 'AuditDigest',
    entry: 'functions/jobs/audit-digest.ts',
    schedule: 'rate(15 minutes)',
    localIntervalSeconds: 300,
    table: 'readwrite',
    description: 'Tamper evidence: chain the audit batches delivered since the last digest into a signed digest',
    timeoutSeconds: 120,
  },
  {
    id: 'Retention',
    entry: 'functions/jobs/retention.ts',
    schedule: 'rate(1 day)',
    localIntervalSeconds: 3600,
    table: 'readwrite',
    description: 'FR-OPS-003: delete audit logs after 7 years and billing events after 5, and audit the deletion',
    // Every tenant partition, up to 10,000 expired items each per run.
    timeoutSeconds: 900,
  },
];

/**
 * Issue #6: the queues. Each has a dead-letter queue after `maxReceiveCount` receives; the consumer is a
 * Lambda with an SQS event source (partial batch responses) in AWS, and an in-process poller over a
 * file spool in local mode (shared/adapters/local/local-queue.ts), both calling the same module.
 */
export interface QueueDef {
  readonly id: QueueId;
  /** Construct id prefix and the consumer function's id. */
  readonly consumerId: string;
  readonly consumerEntry: string;
  readonly table: TableAccess;
  readonly description: string;
  /** Producers find the queue by this environment variable. */
  readonly urlEnv: string;
  readonly batchSize: number;
  readonly maxReceiveCount: number;
  /** Consumer function timeout; the queue's visibility timeout is 6× this (AWS guidance). */
  readonly consumerTimeoutSeconds: number;
  /** The consumer forwards what it stored to this Firehose stream (→ archive bucket). */
  readonly archive?: 'audit' | 'billing';
}

export const QUEUES: readonly QueueDef[] = [
  { id: 'audit', consumerId: 'AuditConsumer', consumerEntry: 'functions/ingest/audit-consumer.ts', table: 'readwrite', description: 'FR-LOG-001/003: store audit records once and archive them', urlEnv: 'AUDIT_QUEUE_URL', batchSize: 10, maxReceiveCount: 5, consumerTimeoutSeconds: 60, archive: 'audit' },
  { id: 'billing', consumerId: 'BillingConsumer', consumerEntry: 'functions/ingest/billing-consumer.ts', table: 'readwrite', description: 'FR-BILL-001: store billing events once and archive them', urlEnv: 'BILLING_QUEUE_URL', batchSize: 10, maxReceiveCount: 5, consumerTimeoutSeconds: 60, archive: 'billing' },
  { id: 'export', consumerId: 'AuditExporter', consumerEntry: 'functions/jobs/audit-export.ts', table: 'readwrite', description: 'FR-LOG-002: stream an audit CSV export to S3', urlEnv: 'EXPORT_QUEUE_URL', batchSize: 1, maxReceiveCount: 3, consumerTimeoutSeconds: 900 },
];
