/** Fixtures for identity tests: a tenant with an active Owner, a registered application, enabled. */
import { latestMessage } from '../../shared/adapters/local/outbox-mailer';
import { api, type Harness } from './harness';
import { Browser, hiddenFields } from './browser';
import { s256 } from '../../shared/domain/identity/oauth';

export const OWNER_PASSWORD = 'violet-harbour-teapot-1987';

export interface TenantWithOwner {
  readonly tenantId: string;
  readonly domain: string;
  readonly ownerEmail: string;
  readonly ownerId: string;
}

/** UC-PROV-001 then FR-TENANT-001: provision, read the invitation from the outbox, accept it. */
export async function tenantWithOwner(h: Harness, domain: string, dataDir: string): Promise<TenantWithOwner> {
  const operator = await h.operatorToken();
  const ownerEmail = `owner@${domain}.example`;
  const created = await api(h, 'POST', '/v1/tenants', { token: operator, body: { name: `${domain} Inc`, domain, plan: 'Pro', ownerEmail } });
  if (created.status !== 201) throw new Error(`provisioning failed: ${JSON.stringify(created.body)}`);
  const tenantId = (created.body['tenant'] as { id: string }).id;
  const ownerId = (created.body['owner'] as { id: string }).id;
  const mail = await latestMessage(dataDir, { to: ownerEmail, kind: 'invitation' });
  const link = mail?.text.match(/https?:\/\/\S+\/invitations\/accept\?token=\S+/)?.[0];
  if (!link) throw new Error('no invitation link in the outbox');
  const b = new Browser();
  const page = await b.request(link);
  const res = await b.request(h.url('/invitations/accept'), { form: { ...hiddenFields(page.body), password: OWNER_PASSWORD } });
  if (res.status !== 200) throw new Error(`accepting the invitation failed: ${res.status} ${res.body.slice(0, 300)}`);
  return { tenantId, domain, ownerEmail, ownerId };
}

export interface RegisteredApp {
  readonly clientId: string;
  readonly clientSecret: string | undefined;
}

export async function registerApp(h: Harness, body: Record<string, unknown>): Promise<RegisteredApp> {
  const res = await api(h, 'POST', '/v1/apps', { token: await h.developerToken(), body });
  if (res.status !== 201) throw new Error(`app registration failed: ${JSON.stringify(res.body)}`);
  return { clientId: String(res.body['clientId']), clientSecret: res.body['clientSecret'] as string | undefined };
}

export async function enableApp(h: Harness, tenantId: string, appId: string): Promise<void> {
  const res = await api(h, 'PUT', `/v1/tenants/${tenantId}/apps/${appId}`, { token: await h.operatorToken() });
  if (res.status !== 200) throw new Error(`enabling failed: ${JSON.stringify(res.body)}`);
}

/** Walks /authorize → login page → password → back to the client; returns the callback URL. */
export async function signIn(b: Browser, authorizeUrl: string, credentials: { email: string; password: string; tenant?: string }): Promise<{ callback: string | null; status: number; body: string }> {
  const first = await b.request(authorizeUrl);
  if (first.status !== 302 || !first.location) return { callback: null, status: first.status, body: first.body };
  if (!new URL(first.location).pathname.startsWith('/login')) return { callback: first.location, status: first.status, body: '' };
  const page = await b.request(first.location);
  const form = { ...hiddenFields(page.body), email: credentials.email, password: credentials.password, ...(credentials.tenant ? { tenant: credentials.tenant } : {}) };
  const posted = await b.request(new URL('/login', first.location).toString(), { form });
  return { callback: posted.status === 302 ? posted.location : null, status: posted.status, body: posted.body };
}

/**
 * An /authorize URL for the code flow with PKCE S256. `params` name the client, redirect URI, scope and
 * so on, and `verifier` gives the code_challenge; a param set to undefined leaves that parameter out.
 */
export function authorizeUrl(h: Harness, verifier: string, params: Record<string, string | undefined>): string {
  const u = new URL(h.url('/authorize'));
  for (const [k, v] of Object.entries({ response_type: 'code', code_challenge: s256(verifier), code_challenge_method: 'S256', ...params })) if (v !== undefined) u.searchParams.set(k, v);
  return u.toString();
}
