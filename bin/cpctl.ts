/**
 * cpctl — the control plane's CLI for operators and developers. Every command can print JSON (`--json`)
 * for scripts; errors go to stderr as one line (or the problem document with --json) and exit non-zero.
 */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { ApiClient, ApiProblem } from '../shared/cli/api-client';
import { formatVerifyReport, parsePreviousDigestKey, verifyAuditTrail } from '../shared/cli/audit-verify';
import { configDir, loadState, saveState, type CliState, type Profile } from '../shared/cli/config-store';
import { loginWithDeviceCode, loginWithPassword, refreshTokens, type OperatorTokens } from '../shared/cli/operator-login';
import { PLANS, TENANT_STATUSES } from '../shared/domain/tenant';
import type { FlagType } from '../shared/domain/delivery-ports';
import { FLAG_TYPES, parseFlagArgument } from '../shared/domain/flags';

const DEV_OPERATOR = { email: 'operator@example.com', password: 'operator-dev-password' };
const LOCAL_API = 'http://localhost:3000';
const LOCAL_ISSUER = 'http://localhost:3001';

class UsageError extends Error {}

interface GlobalOpts {
  region?: string;
  json?: boolean;
}

const program = new Command('cpctl')
  .description('Operate the SaaS control plane: log in, provision and inspect tenants.')
  .addOption(new Option('--region <region>', 'regional deployment to talk to (default: the one you last logged in to)').env('CPCTL_REGION'))
  .option('--json', 'print machine-readable JSON')
  .showHelpAfterError();

function globals(): GlobalOpts {
  return program.opts<GlobalOpts>();
}

function print(data: unknown, human: () => string): void {
  process.stdout.write(globals().json ? `${JSON.stringify(data, null, 2)}\n` : `${human()}\n`);
}

function selectProfile(state: CliState): { region: string; profile: Profile } {
  const region = globals().region ?? state.currentRegion;
  if (!region) throw new UsageError('not logged in: run `cpctl login` first');
  const profile = state.profiles[region];
  if (!profile) throw new UsageError(`no login for region ${region}: run \`cpctl login --region ${region} --api <url>\``);
  return { region, profile };
}

async function authedClient(): Promise<ApiClient> {
  const state = loadState();
  const { region, profile } = selectProfile(state);
  let tokens = profile.tokens;
  if (!tokens) throw new UsageError(`not logged in to ${region}: run \`cpctl login\``);
  if (tokens.expiresAt - 30 < Date.now() / 1000) {
    if (!tokens.refreshToken) throw new UsageError(`your session for ${region} expired: run \`cpctl login\` again`);
    const fresh = await refreshTokens({ issuer: profile.issuer, clientId: profile.clientId, refreshToken: tokens.refreshToken, audience: profile.audience });
    tokens = { ...fresh, refreshToken: fresh.refreshToken ?? tokens.refreshToken };
    state.profiles[region] = { ...profile, tokens };
    saveState(state);
  }
  return new ApiClient(profile.api, tokens.accessToken);
}

function isLoopback(url: string): boolean {
  const h = new URL(url).hostname;
  return h === 'localhost' || h === '127.0.0.1' || h === '[::1]';
}

program
  .command('login')
  .description('Obtain an operator token from the operator IdP and remember it for a region')
  .option('--api <url>', 'API base URL of the regional deployment', process.env['CPCTL_API'])
  .option('--issuer <url>', 'operator IdP issuer URL', process.env['CPCTL_ISSUER'])
  .option('--audience <aud>', 'API audience the token must carry (default: the API URL)', process.env['CPCTL_AUDIENCE'])
  .option('--client-id <id>', 'OAuth client id of cpctl at the IdP', process.env['CPCTL_CLIENT_ID'] ?? 'cpctl')
  .option('--dev', 'local mode: log in non-interactively with the dev IdP account')
  .option('--username <email>', 'with --dev: account to use', DEV_OPERATOR.email)
  .option('--password <password>', 'with --dev: its password (dev IdP only)', DEV_OPERATOR.password)
  .action(async (o: { api?: string; issuer?: string; audience?: string; clientId: string; dev?: boolean; username: string; password: string }) => {
    const state = loadState();
    const api = o.api ?? (o.dev ? LOCAL_API : undefined);
    if (!api) throw new UsageError('--api <url> is required (or set CPCTL_API)');
    const region = globals().region ?? (isLoopback(api) ? 'local' : undefined);
    if (!region) throw new UsageError('--region is required for a non-local API (e.g. ap-northeast-1 or eu-central-1)');
    const issuer = o.issuer ?? (o.dev ? LOCAL_ISSUER : state.profiles[region]?.issuer);
    if (!issuer) throw new UsageError('--issuer <url> is required (the operator IdP)');
    const audience = o.audience ?? api.replace(/\/$/, '');
    let tokens: OperatorTokens;
    if (o.dev) {
      tokens = await loginWithPassword({ issuer, clientId: o.clientId, audience, username: o.username, password: o.password });
    } else {
      tokens = await loginWithDeviceCode({
        issuer,
        clientId: o.clientId,
        audience,
        onPrompt: (p) => {
          process.stderr.write(`To sign in, open ${p.verificationUriComplete ?? p.verificationUri}\nand confirm the code ${p.userCode} (expires in ${Math.round(p.expiresIn / 60)} min).\n`);
        },
      });
    }
    state.profiles[region] = { api, issuer, audience, clientId: o.clientId, tokens };
    state.currentRegion = region;
    saveState(state);
    print({ region, api, issuer, expiresAt: new Date(tokens.expiresAt * 1000).toISOString() }, () => `Logged in to ${region} (${api}) until ${new Date(tokens.expiresAt * 1000).toISOString()}; credentials in ${configDir()}`);
  });

program
  .command('logout')
  .description('Forget the token of the selected region')
  .action(() => {
    const state = loadState();
    const { region, profile } = selectProfile(state);
    const { tokens: _dropped, ...rest } = profile;
    state.profiles[region] = rest;
    saveState(state);
    print({ region, loggedOut: true }, () => `Logged out of ${region}`);
  });

interface TenantOut {
  id: string;
  name: string;
  domain: string;
  plan: string;
  status: string;
  homeRegion: string;
  createdAt: string;
  suspension?: { at: string; reason: string | null } | null;
  deletion?: { requestedAt: string; purgeAfter: string; previousStatus: string } | null;
}

/**
 * Fetches GET /v1/tenants pages with the given filters; with `all`, follows cursors to the end. A page
 * may be short (even empty) while a cursor remains, so only a null cursor stops the loop.
 */
async function fetchTenantPages(filters: Record<string, string>, o: { limit: string; cursor?: string; all?: boolean }): Promise<{ items: TenantOut[]; nextCursor: string | null }> {
  const client = await authedClient();
  const items: TenantOut[] = [];
  let cursor = o.cursor;
  let next: string | null = null;
  do {
    const q = new URLSearchParams({ ...filters, limit: o.limit, ...(cursor ? { cursor } : {}) });
    const page = await client.request<{ items: TenantOut[]; nextCursor: string | null }>('GET', `/v1/tenants?${q.toString()}`);
    items.push(...page.items);
    next = page.nextCursor;
    cursor = next ?? undefined;
  } while (o.all && next);
  return { items, nextCursor: next };
}

function tenantTable(items: readonly TenantOut[], next: string | null): string {
  const rows = [['ID', 'DOMAIN', 'NAME', 'PLAN', 'STATUS', 'REGION'], ...items.map((t) => [t.id, t.domain, t.name, t.plan, t.status, t.homeRegion])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const table = rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
  return next ? `${table}\n(more: --cursor ${next})` : table;
}

const tenants = program.command('tenants').description('Provision, find, inspect, suspend and delete tenants (operators)');

tenants
  .command('create')
  .description('Provision a tenant (UC-PROV-001) in the selected region')
  .requiredOption('--name <name>', 'display name')
  .requiredOption('--domain <domain>', 'unique tenant domain, e.g. acme')
  .addOption(new Option('--plan <plan>', 'subscription plan').choices([...PLANS]).makeOptionMandatory())
  .requiredOption('--owner-email <email>', 'email of the initial Owner, who gets an invitation')
  .option('--app <clientId>', 'enable an application for the tenant (repeatable)', (v: string, prev: string[] = []) => [...prev, v], [] as string[])
  .action(async (o: { name: string; domain: string; plan: string; ownerEmail: string; app: string[] }) => {
    const client = await authedClient();
    const out = await client.request<{ tenant: TenantOut; owner: { email: string; status: string }; invitation: { expiresAt: string } }>('POST', '/v1/tenants', {
      name: o.name,
      domain: o.domain,
      plan: o.plan,
      ownerEmail: o.ownerEmail,
      ...(o.app.length > 0 ? { appIds: o.app } : {}),
    });
    print(out, () => `Created tenant ${out.tenant.domain} (${out.tenant.id}) in ${out.tenant.homeRegion}, plan ${out.tenant.plan}; owner ${out.owner.email} invited until ${out.invitation.expiresAt}`);
  });

tenants
  .command('list')
  .description('List tenants, oldest first')
  .option('--limit <n>', 'page size (1-100)', '25')
  .option('--cursor <cursor>', 'continue after a previous page')
  .option('--all', 'follow cursors until the end')
  .action(async (o: { limit: string; cursor?: string; all?: boolean }) => {
    const out = await fetchTenantPages({}, o);
    print(out, () => tenantTable(out.items, out.nextCursor));
  });

tenants
  .command('search')
  .description('Find tenants by domain or name prefix (case-insensitive), status and plan; filters combine')
  .option('--domain-prefix <prefix>', 'domains starting with this (results sorted by domain)')
  .option('--name-prefix <prefix>', 'names starting with this, ignoring case and spacing (sorted by name)')
  .addOption(new Option('--status <status>', 'only tenants in this status').choices([...TENANT_STATUSES]))
  .addOption(new Option('--plan <plan>', 'only tenants on this plan').choices([...PLANS]))
  .option('--limit <n>', 'page size (1-100)', '25')
  .option('--cursor <cursor>', 'continue after a previous page of the same search')
  .option('--all', 'follow cursors until the end')
  .action(async (o: { domainPrefix?: string; namePrefix?: string; status?: string; plan?: string; limit: string; cursor?: string; all?: boolean }) => {
    const filters = Object.fromEntries(
      Object.entries({ domainPrefix: o.domainPrefix, namePrefix: o.namePrefix, status: o.status, plan: o.plan }).filter((e): e is [string, string] => e[1] !== undefined),
    );
    const out = await fetchTenantPages(filters, o);
    print(out, () => (out.items.length === 0 && !out.nextCursor ? '(no matching tenants)' : tenantTable(out.items, out.nextCursor)));
  });

tenants
  .command('get <id>')
  .description('Show one tenant')
  .action(async (id: string) => {
    const client = await authedClient();
    const t = await client.request<TenantOut>('GET', `/v1/tenants/${encodeURIComponent(id)}`);
    print(t, () => Object.entries(t).map(([k, v]) => `${k.padEnd(11)} ${String(v)}`).join('\n'));
  });

tenants
  .command('suspend <id>')
  .description('Suspend a tenant: all its users are denied at once until restored (FR-OPS-001)')
  .option('--reason <reason>', 'why (kept with the tenant and in the audit record)')
  .action(async (id: string, o: { reason?: string }) => {
    const client = await authedClient();
    const t = await client.request<TenantOut>('POST', `/v1/tenants/${encodeURIComponent(id)}/suspend`, o.reason === undefined ? {} : { reason: o.reason });
    print(t, () => `Tenant ${t.domain} (${t.id}) is now ${t.status}${t.suspension?.reason ? `: ${t.suspension.reason}` : ''}`);
  });

tenants
  .command('restore <id>')
  .description('Lift a suspension, or cancel a deletion within its grace period')
  .action(async (id: string) => {
    const client = await authedClient();
    const t = await client.request<TenantOut>('POST', `/v1/tenants/${encodeURIComponent(id)}/restore`);
    print(t, () => `Tenant ${t.domain} (${t.id}) is now ${t.status}`);
  });

tenants
  .command('delete <id>')
  .description('Delete a tenant: inaccessible at once, purged after the grace period unless restored (FR-OPS-002)')
  .requiredOption('--confirm <domain>', "the tenant's domain, typed out as confirmation")
  .action(async (id: string, o: { confirm: string }) => {
    const client = await authedClient();
    const t = await client.request<TenantOut>('DELETE', `/v1/tenants/${encodeURIComponent(id)}?${new URLSearchParams({ confirm: o.confirm }).toString()}`);
    print(t, () => `Tenant ${t.domain} (${t.id}) is ${t.status}; it will be purged after ${t.deletion?.purgeAfter ?? '(unknown)'} unless restored first (cpctl tenants restore ${t.id})`);
  });

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

interface AppOut {
  id: string;
  name: string;
  clientType: string;
  status: string;
  environment: string;
  grantTypes: string[];
  redirectUris: string[];
  clientSecret?: string;
}

function appLines(a: AppOut): string {
  const lines = [`client_id   ${a.id}`, `name        ${a.name}`, `type        ${a.clientType} (${a.grantTypes.join(', ')})`, `status      ${a.status}`, `redirects   ${a.redirectUris.join(' ') || '-'}`];
  if (a.clientSecret) lines.push(`secret      ${a.clientSecret}`, '', 'The client secret is shown only now: store it in your secret manager.');
  return lines.join('\n');
}

const apps = program.command('apps').description('Register and manage applications (OAuth clients) — developers and operators');

apps
  .command('register')
  .description('Register a managed application (FR-SYS-001); prints the client secret once')
  .requiredOption('--name <name>', 'display name')
  .addOption(new Option('--client-type <type>', 'confidential (has a secret) or public (SPA, native)').choices(['confidential', 'public']).makeOptionMandatory())
  .option('--redirect-uri <uri>', 'exact redirect URI (repeatable)', collect, [])
  .option('--post-logout-redirect-uri <uri>', 'post-logout redirect URI (repeatable)', collect, [])
  .option('--grant-type <grant>', 'authorization_code, refresh_token, client_credentials (repeatable)', collect, [])
  .addOption(new Option('--environment <env>', 'deployment environment').choices(['development', 'staging', 'production']).default('production'))
  .action(async (o: { name: string; clientType: string; redirectUri: string[]; postLogoutRedirectUri: string[]; grantType: string[]; environment: string }) => {
    const client = await authedClient();
    const out = await client.request<AppOut>('POST', '/v1/apps', {
      name: o.name,
      clientType: o.clientType,
      environment: o.environment,
      redirectUris: o.redirectUri,
      postLogoutRedirectUris: o.postLogoutRedirectUri,
      ...(o.grantType.length > 0 ? { grantTypes: o.grantType } : {}),
    });
    print(out, () => appLines(out));
  });

apps
  .command('list')
  .description('List applications')
  .action(async () => {
    const client = await authedClient();
    const page = await client.request<{ items: AppOut[]; nextCursor: string | null }>('GET', '/v1/apps?limit=100');
    print(page, () => page.items.map((a) => `${a.id}  ${a.status.padEnd(8)}  ${a.clientType.padEnd(12)}  ${a.name}`).join('\n') || '(no applications)');
  });

apps
  .command('get <id>')
  .description('Show one application')
  .action(async (id: string) => {
    const client = await authedClient();
    const a = await client.request<AppOut>('GET', `/v1/apps/${encodeURIComponent(id)}`);
    print(a, () => appLines(a));
  });

apps
  .command('update <id>')
  .description('Change name or redirect URIs (FR-SYS-003)')
  .option('--name <name>', 'display name')
  .option('--redirect-uri <uri>', 'replace the redirect URIs (repeatable)', collect)
  .option('--post-logout-redirect-uri <uri>', 'replace the post-logout redirect URIs (repeatable)', collect)
  .action(async (id: string, o: { name?: string; redirectUri?: string[]; postLogoutRedirectUri?: string[] }) => {
    const client = await authedClient();
    const a = await client.request<AppOut>('PATCH', `/v1/apps/${encodeURIComponent(id)}`, {
      ...(o.name ? { name: o.name } : {}),
      ...(o.redirectUri ? { redirectUris: o.redirectUri } : {}),
      ...(o.postLogoutRedirectUri ? { postLogoutRedirectUris: o.postLogoutRedirectUri } : {}),
    });
    print(a, () => appLines(a));
  });

for (const [name, status, what] of [
  ['disable', 'Disabled', 'Disable an application: token issuance and refresh stop at once (FR-SYS-003)'],
  ['enable', 'Active', 'Re-enable an application'],
] as const) {
  apps
    .command(`${name} <id>`)
    .description(what)
    .action(async (id: string) => {
      const client = await authedClient();
      const a = await client.request<AppOut>('PATCH', `/v1/apps/${encodeURIComponent(id)}`, { status });
      print(a, () => `${a.name} (${a.id}) is now ${a.status}`);
    });
}

apps
  .command('rotate-secret <id>')
  .description('Issue a new client secret; the previous one stays valid for the grace period (7 days)')
  .action(async (id: string) => {
    const client = await authedClient();
    const a = await client.request<AppOut>('POST', `/v1/apps/${encodeURIComponent(id)}/secret`);
    print(a, () => appLines(a));
  });

for (const [name, method, what] of [
  ['enable-app', 'PUT', 'Let the users of a tenant sign in to an application (UC-PROV-001 step 3)'],
  ['disable-app', 'DELETE', 'Stop the users of a tenant from obtaining tokens for an application'],
] as const) {
  tenants
    .command(`${name} <tenantId> <appId>`)
    .description(what)
    .action(async (tenantId: string, appId: string) => {
      const client = await authedClient();
      const r = await client.request<{ enabled: boolean }>(method, `/v1/tenants/${encodeURIComponent(tenantId)}/apps/${encodeURIComponent(appId)}`);
      print(r, () => `application ${appId} ${r.enabled ? 'enabled' : 'disabled'} for tenant ${tenantId}`);
    });
}

const flags = program.command('flags').description("A tenant's feature flags: plan defaults and operator overrides (FR-FLAG-001)");

interface FlagOut {
  key: string;
  type: string;
  value: unknown;
  source: string;
}

function flagLine(f: FlagOut): string {
  return `${f.key.padEnd(28)} ${f.type.padEnd(7)} ${f.source.padEnd(8)} ${JSON.stringify(f.value)}`;
}

flags
  .command('list <tenantId>')
  .description("List a tenant's flags with their source (plan or override) and the flags' version")
  .action(async (tenantId: string) => {
    const client = await authedClient();
    const r = await client.request<{ version: number; flags: FlagOut[] }>('GET', `/v1/tenants/${encodeURIComponent(tenantId)}/flags`);
    print(r, () => [`version ${r.version}`, ...r.flags.map(flagLine)].join('\n'));
  });

flags
  .command('set <tenantId> <key> <value>')
  .description('Override a flag for a tenant; the value is typed from its spelling (true/false, number, JSON object, else string) unless --type says otherwise')
  .addOption(new Option('--type <type>', 'the value type').choices([...FLAG_TYPES]))
  .action(async (tenantId: string, key: string, raw: string, o: { type?: FlagType }) => {
    const parsed = parseFlagArgument(raw, o.type);
    if (!parsed.ok) throw new UsageError(`value ${parsed.message}`);
    const client = await authedClient();
    const r = await client.request<{ version: number; flag: FlagOut }>('PUT', `/v1/tenants/${encodeURIComponent(tenantId)}/flags/${encodeURIComponent(key)}`, parsed.flag);
    print(r, () => `${flagLine(r.flag)}\n(version ${r.version})`);
  });

flags
  .command('unset <tenantId> <key>')
  .description("Remove a tenant's override of a flag; the plan's default comes back if the plan has the flag")
  .action(async (tenantId: string, key: string) => {
    const client = await authedClient();
    const r = await client.request<{ version: number; flag: FlagOut | null }>('DELETE', `/v1/tenants/${encodeURIComponent(tenantId)}/flags/${encodeURIComponent(key)}`);
    print(r, () => `${r.flag ? `${flagLine(r.flag)} (plan default restored)` : `${key} removed`}\n(version ${r.version})`);
  });

const sessions = program.command('sessions').description("Inspect and revoke users' sessions (FR-AUTH-005)");

sessions
  .command('list <tenantId> <userId>')
  .description("List a user's sessions")
  .action(async (tenantId: string, userId: string) => {
    const client = await authedClient();
    const r = await client.request<{ items: { id: string; status: string; createdAt: string; lastSeenAt: string; ip: string }[] }>('GET', `/v1/tenants/${encodeURIComponent(tenantId)}/users/${encodeURIComponent(userId)}/sessions`);
    print(r, () => r.items.map((x) => `${x.id}  ${x.status.padEnd(7)}  since ${x.createdAt}  last ${x.lastSeenAt}  ${x.ip}`).join('\n') || '(no sessions)');
  });

sessions
  .command('revoke <tenantId> <userId> [sessionId]')
  .description('End one session, or all of the user\'s sessions when no session id is given')
  .action(async (tenantId: string, userId: string, sessionId?: string) => {
    const client = await authedClient();
    const base = `/v1/tenants/${encodeURIComponent(tenantId)}/users/${encodeURIComponent(userId)}/sessions`;
    const r = await client.request<{ revoked: number }>('DELETE', sessionId ? `${base}/${encodeURIComponent(sessionId)}` : base);
    print(r, () => `${r.revoked} session(s) ended`);
  });

const signingKeys = program.command('signing-keys').description('Token signing keys (ADR-0005); API access keys are `cpctl keys`');

signingKeys
  .command('rotate')
  .description('Create a new signing key: published now, signing once relying parties can have seen it; the previous one stays published until tokens signed with it expire')
  .option('--now', 'sign with the new key at once and drop a pending one (suspected key compromise)')
  .option('--retire-previous', 'with --now: also remove every older key from the JWKS at once; tokens they signed stop verifying, clients refresh')
  .action(async (o: { now?: boolean; retirePrevious?: boolean }) => {
    const client = await authedClient();
    const r = await client.request<{ kid: string; previousKid: string | null; activatesAt: string }>('POST', '/v1/keys/rotate', { immediate: o.now === true, retirePrevious: o.retirePrevious === true });
    print(r, () => {
      if (o.retirePrevious === true) return `signing with ${r.kid}; every older key is retired and unpublished`;
      if (o.now === true || r.previousKid === null) return `signing with ${r.kid}${r.previousKid ? ` (previous ${r.previousKid} still published)` : ''}`;
      return `${r.kid} published; it signs from ${r.activatesAt} (${r.previousKid} signs until then and stays published after)`;
    });
  });

interface ApiKeyOut {
  keyId: string;
  prefix: string;
  appId: string;
  name: string;
  scopes: string[];
  status: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
  key?: string;
}

function apiKeyLines(k: ApiKeyOut): string {
  const lines = [
    `key_id      ${k.prefix}`,
    `app         ${k.appId}`,
    `name        ${k.name}`,
    `scopes      ${k.scopes.join(' ')}`,
    `status      ${k.status}${k.revokedAt ? ` (revoked ${k.revokedAt})` : ''}`,
    `expires     ${k.expiresAt ?? 'never'}`,
    `last used   ${k.lastUsedAt ?? 'never'}`,
  ];
  if (k.key) lines.push(`key         ${k.key}`, '', 'The key is shown only now: store it in your secret manager.');
  return lines.join('\n');
}

const apiKeys = program.command('keys').description("API access keys of an application (FR-SYS-002) — developers and operators");

apiKeys
  .command('create')
  .description('Issue an API key for an application; prints the key once')
  .requiredOption('--app <id>', 'application (client) id')
  .requiredOption('--name <name>', 'what the key is for')
  .requiredOption('--scope <scope>', 'flag:read, bill:write, bill:read, log:write (repeatable)', collect, [])
  .option('--expires-at <iso>', 'expiry as an ISO 8601 date-time (at most 2 years ahead); default: never')
  .action(async (o: { app: string; name: string; scope: string[]; expiresAt?: string }) => {
    if (o.scope.length === 0) throw new UsageError('at least one --scope is required');
    const client = await authedClient();
    const k = await client.request<ApiKeyOut>('POST', `/v1/apps/${encodeURIComponent(o.app)}/keys`, {
      name: o.name,
      scopes: o.scope,
      ...(o.expiresAt ? { expiresAt: o.expiresAt } : {}),
    });
    print(k, () => apiKeyLines(k));
    // With --json the warning goes to stderr, so stdout stays one JSON document.
    if (globals().json) process.stderr.write('warning: the key is shown only now: store it in your secret manager\n');
  });

apiKeys
  .command('list')
  .description("List an application's API keys (never their secrets)")
  .requiredOption('--app <id>', 'application (client) id')
  .action(async (o: { app: string }) => {
    const client = await authedClient();
    const r = await client.request<{ items: ApiKeyOut[] }>('GET', `/v1/apps/${encodeURIComponent(o.app)}/keys`);
    print(r, () => r.items.map((k) => `${k.prefix}  ${k.status.padEnd(7)}  ${k.scopes.join(',').padEnd(20)}  expires ${k.expiresAt ?? 'never'}  last used ${k.lastUsedAt ?? 'never'}  ${k.name}`).join('\n') || '(no API keys)');
  });

apiKeys
  .command('revoke <keyId>')
  .description('Revoke an API key: new requests with it fail within seconds')
  .requiredOption('--app <id>', 'application (client) id')
  .action(async (keyId: string, o: { app: string }) => {
    const client = await authedClient();
    const k = await client.request<ApiKeyOut>('DELETE', `/v1/apps/${encodeURIComponent(o.app)}/keys/${encodeURIComponent(keyId)}`);
    print(k, () => `${k.prefix} (${k.name}) is now ${k.status}`);
  });

const audit = program.command('audit').description('Audit logs (Auditors)');

audit
  .command('verify')
  .description('Recompute the tamper-evidence chain (signed digests, batches, record hashes) and name every altered, missing or reordered record; exit 1 on tampering')
  .option('--from-seq <n>', 'check the records of digests from this sequence number on (default: all)')
  .option('--key-sha256 <hex>', "refuse unless the digest signing key's SPKI has this SHA-256 (pin it from KMS GetPublicKey)")
  .option(
    '--previous-key <keyId=file>',
    'public key of an earlier digest signing key, for digests signed before the key was replaced: the file holds PEM or the base64 DER of `aws kms get-public-key --query PublicKey --output text` (repeatable)',
    (v: string, all: string[]) => [...all, v],
    [] as string[],
  )
  .action(async (o: { fromSeq?: string; keySha256?: string; previousKey: string[] }) => {
    const fromSeq = o.fromSeq === undefined ? undefined : Number(o.fromSeq);
    if (fromSeq !== undefined && (!Number.isInteger(fromSeq) || fromSeq < 1)) throw new UsageError('--from-seq must be a positive integer');
    const previousKeys = o.previousKey.map((spec) => {
      // Split at the first '=': key ids (KMS ARNs, local:<thumbprint>) contain ':' and '/', never '='.
      const at = spec.indexOf('=');
      if (at <= 0) throw new UsageError('--previous-key needs <keyId>=<file>');
      const file = spec.slice(at + 1);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        throw new UsageError(`--previous-key: cannot read ${file}`);
      }
      try {
        return parsePreviousDigestKey(spec.slice(0, at), text);
      } catch (err) {
        throw new UsageError(err instanceof Error ? err.message : String(err));
      }
    });
    const client = await authedClient();
    const report = await verifyAuditTrail(client, { ...(fromSeq !== undefined ? { fromSeq } : {}), ...(o.keySha256 !== undefined ? { keySha256: o.keySha256 } : {}), previousKeys });
    print(report, () => formatVerifyReport(report));
    if (report.tampered) process.exitCode = 1;
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof ApiProblem) {
    if (globals().json) process.stderr.write(`${JSON.stringify(err.problem)}\n`);
    else {
      const fields = (err.problem.errors ?? []).map((e) => `\n  ${e.pointer || e.location}: ${e.detail}`).join('');
      process.stderr.write(`error: ${err.message}${fields}\n`);
    }
    process.exit(1);
  }
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
}
