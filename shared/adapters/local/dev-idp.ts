/**
 * Development OpenID Provider for local mode (FR-SYS-004).
 *
 * In AWS the operator IdP is external. Locally we run a real, certified OpenID provider (the
 * `oidc-provider` package) so that the API exercises exactly the production verification path:
 * JWT access token, JWKS fetched from the issuer, `iss`/`aud`/groups checks. Nothing here is
 * meant for production: the accounts and passwords are public constants and state is in memory.
 *
 * What is deliberately NOT in memory: the signing key set. It is persisted to
 * `<dataDir>/dev-idp-jwks.json` so that tokens issued before a restart of `npm start` still verify
 * afterwards (sessions, grants and refresh tokens do not survive a restart; access tokens do).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
// oidc-provider ships no TypeScript declarations and the project installs no @types for it, so the
// small surface used here is described by the Oidc* interfaces below and the import is cast once.
// ts-ignore rather than ts-expect-error so that adding typings later does not break the build.
// eslint-disable-next-line @typescript-eslint/ban-ts-comment
// @ts-ignore -- untyped ESM package, see above
import * as oidcProviderModule from 'oidc-provider';

export interface DevIdpOptions {
  port: number;
  /** Interface to bind. Default 127.0.0.1. */
  host?: string;
  /** Where to persist the signing JWKS (file dev-idp-jwks.json). If absent, keys live in memory only. */
  dataDir?: string;
  /** The API's audience: every access token is issued for it (resource indicator). */
  audience: string;
  /** Claim that carries group membership, in access and ID tokens. Default 'groups'. */
  groupsClaim?: string;
  /** Group that makes a caller a platform operator. Default 'cp-operators'. */
  operatorGroup?: string;
  /** Access token lifetime. Default 3600. */
  accessTokenTtlSeconds?: number;
  /**
   * Polling interval the device authorization endpoint announces (RFC 8628 §3.2). Default 5, the
   * RFC's default; tests lower it so a device login does not cost five seconds.
   */
  deviceFlowIntervalSeconds?: number;
}

export interface DevIdp {
  /** e.g. http://localhost:3001 */
  issuer: string;
  port: number;
  close(): Promise<void>;
  /** Private signing key set, for tests that mint expired or forged tokens. Never log it. */
  privateJwks: { keys: JWK[] };
}

export interface DevAccount {
  readonly email: string;
  readonly password: string;
  readonly groups: readonly string[];
  readonly sub: string;
}

export const DEFAULT_GROUPS_CLAIM = 'groups';
export const DEFAULT_OPERATOR_GROUP = 'cp-operators';

/**
 * The dev IdP's accounts. Passwords are public on purpose: this IdP only runs in local mode.
 * `groups` is what is issued with the default operator group; when `operatorGroup` is overridden,
 * the operator account is issued the configured group instead of `cp-operators`, so it stays an
 * operator whatever the local configuration says.
 */
export const DEV_ACCOUNTS: readonly DevAccount[] = Object.freeze([
  Object.freeze({
    email: 'operator@example.com',
    password: 'operator-dev-password',
    groups: Object.freeze([DEFAULT_OPERATOR_GROUP]),
    sub: 'dev-operator-0001',
  }),
  Object.freeze({
    // ACT-AUDIT (ADR-0007): reads audit logs and tenant metadata, changes nothing.
    email: 'auditor@example.com',
    password: 'auditor-dev-password',
    groups: Object.freeze(['cp-auditors']),
    sub: 'dev-auditor-0001',
  }),
  Object.freeze({
    // Signs in fine but is not an operator: used to show that the API answers 403.
    email: 'developer@example.com',
    password: 'developer-dev-password',
    groups: Object.freeze(['cp-developers']),
    sub: 'dev-developer-0001',
  }),
]);

export const DEV_CLIENT_ID = 'cpctl';

/**
 * Registered redirect URI of the cpctl client. oidc-provider 9 applies RFC 8252 §7.3 to native
 * clients: an http loopback redirect URI matches whatever port the request carries, so cpctl may
 * listen on any ephemeral port of 127.0.0.1. The host must still match literally (127.0.0.1 here,
 * not localhost).
 */
export const DEV_CLIENT_REDIRECT_URI = 'http://127.0.0.1/callback';

const JWKS_FILE = 'dev-idp-jwks.json';
const SIGNING_ALG = 'ES256';
const MAX_FORM_BYTES = 16 * 1024;

// ---------------------------------------------------------------------------------------------
// The subset of oidc-provider's API this module relies on (see the import comment above).

interface OidcInteraction {
  uid: string;
  prompt: { name: string; reasons: string[]; details: Record<string, unknown> };
  params: Record<string, unknown>;
  session?: { accountId?: string };
  grantId?: string;
}

interface OidcGrant {
  addOIDCScope(scope: string): void;
  addOIDCClaims(claims: string[]): void;
  addResourceScope(indicator: string, scope: string): void;
  save(): Promise<string>;
}

interface OidcGrantStatic {
  new (init: { accountId: string; clientId: string }): OidcGrant;
  find(id: string): Promise<OidcGrant | undefined>;
}

interface OidcProvider {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  use(middleware: (ctx: KoaishContext, next: () => Promise<void>) => Promise<void>): void;
  on(event: 'server_error', listener: (ctx: unknown, err: Error) => void): void;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<OidcInteraction>;
  interactionFinished(
    req: IncomingMessage,
    res: ServerResponse,
    result: Record<string, unknown>,
    options: { mergeWithLastSubmission: boolean },
  ): Promise<void>;
  Grant: OidcGrantStatic;
}

interface KoaishContext {
  method: string;
  path: string;
  status: number;
  body: unknown;
  type: string;
  oidc?: { route?: string; client?: { clientId: string; clientName?: string } };
}

/** Token passed to extraTokenClaims; only the fields read here. */
interface OidcToken {
  kind: string;
  accountId?: string;
}

interface OidcErrorsNamespace {
  InvalidTarget: new (description?: string) => Error;
}

interface OidcProviderModule {
  default: new (issuer: string, configuration: Record<string, unknown>) => OidcProvider;
  errors: OidcErrorsNamespace;
}

const { default: Provider, errors: oidcErrors } = oidcProviderModule as unknown as OidcProviderModule;

// ---------------------------------------------------------------------------------------------

export async function startDevIdp(opts: DevIdpOptions): Promise<DevIdp> {
  const host = opts.host ?? '127.0.0.1';
  const groupsClaim = opts.groupsClaim ?? DEFAULT_GROUPS_CLAIM;
  const operatorGroup = opts.operatorGroup ?? DEFAULT_OPERATOR_GROUP;
  const accessTokenTtl = opts.accessTokenTtlSeconds ?? 3600;
  const deviceInterval = opts.deviceFlowIntervalSeconds ?? 5;
  const audience = opts.audience;
  if (!audience) throw new Error('dev IdP: audience is required');
  if (!Number.isInteger(accessTokenTtl) || accessTokenTtl <= 0) {
    throw new Error('dev IdP: accessTokenTtlSeconds must be a positive integer');
  }

  const privateJwks = opts.dataDir ? await loadOrCreateJwks(opts.dataDir) : { keys: [await generateSigningKey()] };

  // The issuer must contain the real port, which is only known after listen() when port is 0, so the
  // server listens first and its request handler is attached once the provider exists. Everything from
  // the listen callback to server.on('request') is synchronous, so no request can slip in between.
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://${issuerHostFor(host)}:${port}`;

  let provider: OidcProvider;
  try {
    provider = createProvider(issuer, {
      audience,
      groupsClaim,
      operatorGroup,
      accessTokenTtl,
      deviceInterval,
      keys: structuredClone(privateJwks.keys),
    });
  } catch (err) {
    server.close();
    throw err;
  }

  const providerCallback = provider.callback();
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', issuer);
    const match = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|abort))?$/.exec(url.pathname);
    if (!match) {
      providerCallback(req, res);
      return;
    }
    const [, uid = '', action] = match;
    handleInteraction(provider, req, res, uid, action).catch((err: unknown) => {
      sendInteractionError(res, err);
    });
  });

  return {
    issuer,
    port,
    privateJwks: structuredClone(privateJwks),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive sockets (fetch keeps them open) would otherwise hold close() and vitest open.
        server.closeAllConnections();
      }),
  };
}

interface ProviderSettings {
  audience: string;
  groupsClaim: string;
  operatorGroup: string;
  accessTokenTtl: number;
  deviceInterval: number;
  keys: JWK[];
}

function createProvider(issuer: string, settings: ProviderSettings): OidcProvider {
  const { audience, groupsClaim, operatorGroup, accessTokenTtl, deviceInterval, keys } = settings;
  const accountClaims = (account: DevAccount): Record<string, unknown> => ({
    sub: account.sub,
    email: account.email,
    email_verified: true,
    name: account.email.split('@')[0],
    preferred_username: account.email,
    [groupsClaim]: issuedGroups(account, operatorGroup),
  });

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: DEV_CLIENT_ID,
        client_name: 'cpctl (control plane CLI)',
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
        response_types: ['code'],
        redirect_uris: [DEV_CLIENT_REDIRECT_URI],
        // The client default is RS256, but this IdP only holds an EC key.
        id_token_signed_response_alg: SIGNING_ALG,
      },
    ],
    jwks: { keys },
    // The groups claim rides on `openid` so that every ID token carries it, like most enterprise IdPs
    // configured with a groups claim do.
    claims: {
      openid: ['sub', groupsClaim],
      email: ['email', 'email_verified'],
      profile: ['name', 'preferred_username'],
    },
    scopes: ['openid', 'offline_access', 'email', 'profile'],
    // Only what cpctl uses: code flow with PKCE, public client. Less surface, clearer discovery.
    responseTypes: ['code'],
    clientAuthMethods: ['none'],
    // By default oidc-provider may keep email/profile claims out of the ID token and serve them from
    // userinfo only; here the ID token alone should identify the operator (email, groups).
    conformIdTokenClaims: false,
    async findAccount(_ctx: unknown, sub: string) {
      const account = DEV_ACCOUNTS.find((a) => a.sub === sub);
      if (!account) return undefined;
      return {
        accountId: account.sub,
        async claims() {
          return accountClaims(account);
        },
      };
    },
    async extraTokenClaims(_ctx: unknown, token: OidcToken) {
      if (token.kind !== 'AccessToken' || !token.accountId) return undefined;
      const account = DEV_ACCOUNTS.find((a) => a.sub === token.accountId);
      if (!account) return undefined;
      return { email: account.email, [groupsClaim]: issuedGroups(account, operatorGroup) };
    },
    features: {
      devInteractions: { enabled: false },
      deviceFlow: {
        enabled: true,
        userCodeInputSource: renderUserCodeInput,
        userCodeConfirmSource: renderUserCodeConfirm,
        successSource: renderDeviceSuccess,
      },
      resourceIndicators: {
        enabled: true,
        // Every token this IdP issues is for our API, even if the client forgets `resource`.
        defaultResource: async () => audience,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx: unknown, resourceIndicator: string) => {
          if (resourceIndicator !== audience) {
            throw new oidcErrors.InvalidTarget(`this IdP only issues tokens for ${audience}`);
          }
          return {
            scope: 'openid profile email',
            audience,
            accessTokenTTL: accessTokenTtl,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: SIGNING_ALG } },
          };
        },
      },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: renderLogout,
        postLogoutSuccessSource: renderLogoutSuccess,
      },
    },
    pkce: { required: () => true },
    ttl: {
      AccessToken: accessTokenTtl,
      AuthorizationCode: 60,
      DeviceCode: 600,
      IdToken: 3600,
      Interaction: 600,
      RefreshToken: 7 * 24 * 3600,
      Session: 24 * 3600,
      Grant: 7 * 24 * 3600,
    },
    // Fresh per start: cookies only need to outlive a login, and sessions are in memory anyway.
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    interactions: { url: async (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    // cpctl is not a browser app; no origin needs CORS.
    clientBasedCORS: () => false,
    renderError: renderProviderError,
  });

  provider.on('server_error', (_ctx, err) => {
    // Message only: the error object can reference request state that includes tokens.
    logError('dev IdP: internal error', err.message);
  });

  if (deviceInterval !== 5) {
    // oidc-provider does not announce `interval`, so clients fall back to the RFC's 5 s.
    provider.use(async (ctx, next) => {
      await next();
      if (ctx.oidc?.route === 'device_authorization' && ctx.status === 200 && isRecord(ctx.body)) {
        ctx.body = { ...ctx.body, interval: deviceInterval };
      }
    });
  }

  return provider;
}

// ---------------------------------------------------------------------------------------------
// Interactions: our own login page and an automatic consent for cpctl.

async function handleInteraction(
  provider: OidcProvider,
  req: IncomingMessage,
  res: ServerResponse,
  uid: string,
  action: string | undefined,
): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) {
    sendHtml(res, 400, page('Sign-in', '<p>This sign-in page is out of date. Start the sign-in again.</p>'));
    return;
  }

  if (action === 'abort') {
    requireMethod(req, 'POST');
    await provider.interactionFinished(
      req,
      res,
      { error: 'access_denied', error_description: 'End-User aborted interaction' },
      { mergeWithLastSubmission: false },
    );
    return;
  }

  if (action === 'login') {
    requireMethod(req, 'POST');
    if (details.prompt.name !== 'login') {
      sendHtml(res, 400, page('Sign-in', '<p>No sign-in is pending for this request.</p>'));
      return;
    }
    const form = await readForm(req);
    const email = form.get('email') ?? '';
    const account = verifyCredentials(email, form.get('password') ?? '');
    if (!account) {
      // 401 (not 200) so that non-browser clients such as cpctl can tell a rejected login apart.
      sendHtml(res, 401, loginPage(uid, 'Unknown email or wrong password.', email));
      return;
    }
    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: account.sub } },
      { mergeWithLastSubmission: false },
    );
    return;
  }

  requireMethod(req, 'GET');
  switch (details.prompt.name) {
    case 'login':
      sendHtml(res, 200, loginPage(uid));
      return;
    case 'consent': {
      // There is one client and it is our own CLI: consent is implied, as with a first-party app.
      if (details.params.client_id !== DEV_CLIENT_ID || !details.session?.accountId) {
        sendHtml(res, 403, page('Consent', '<p>This IdP only grants access to cpctl.</p>'));
        return;
      }
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: details.session.accountId, clientId: DEV_CLIENT_ID });
      if (!grant) throw new Error('grant of the interaction not found');
      const missing = details.prompt.details;
      if (isStringArray(missing.missingOIDCScope)) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (isStringArray(missing.missingOIDCClaims)) grant.addOIDCClaims(missing.missingOIDCClaims);
      if (isRecord(missing.missingResourceScopes)) {
        for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes)) {
          if (isStringArray(scopes)) grant.addResourceScope(indicator, scopes.join(' '));
        }
      }
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      return;
    }
    default:
      sendHtml(res, 501, page('Sign-in', `<p>Unsupported prompt ${escapeHtml(details.prompt.name)}.</p>`));
  }
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

function requireMethod(req: IncomingMessage, method: string): void {
  if (req.method !== method) throw new HttpError(405, 'method not allowed');
}

function sendInteractionError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  let status = 500;
  let message = 'The sign-in failed.';
  if (err instanceof HttpError) {
    status = err.status;
    message = err.message;
  } else if (err instanceof Error && err.name === 'SessionNotFound') {
    // Expired interaction, or the browser dropped the cookie (e.g. a different host name was used).
    status = 400;
    message = 'This sign-in has expired or its cookie is missing. Start the sign-in again.';
  } else {
    logError('dev IdP: interaction failed', err instanceof Error ? err.message : String(err));
  }
  sendHtml(res, status, page('Sign-in', `<p>${escapeHtml(message)}</p>`));
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = req.headers['content-type'] ?? '';
  if (!type.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    throw new HttpError(415, 'expected a form submission');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_FORM_BYTES) throw new HttpError(413, 'form too large');
    chunks.push(buf);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

// ---------------------------------------------------------------------------------------------
// Accounts

function issuedGroups(account: DevAccount, operatorGroup: string): string[] {
  return account.groups.map((g) => (g === DEFAULT_OPERATOR_GROUP ? operatorGroup : g));
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * Every account is compared, without early exit, and both sides are hashed to equal length before
 * timingSafeEqual, so response time reveals neither which email exists nor how much of a password
 * matched.
 */
function verifyCredentials(email: string, password: string): DevAccount | undefined {
  const emailDigest = digest(email.trim().toLowerCase());
  const passwordDigest = digest(password);
  let found: DevAccount | undefined;
  for (const account of DEV_ACCOUNTS) {
    const emailOk = timingSafeEqual(emailDigest, digest(account.email));
    const passwordOk = timingSafeEqual(passwordDigest, digest(account.password));
    if (emailOk && passwordOk) found = account;
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// Signing keys

async function generateSigningKey(): Promise<JWK> {
  const { privateKey, publicKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  const jwk = await exportJWK(privateKey);
  // Thumbprint of the public key: a stable kid that changes only when the key does.
  const kid = await calculateJwkThumbprint(await exportJWK(publicKey));
  return { ...jwk, kid, alg: SIGNING_ALG, use: 'sig' };
}

async function loadOrCreateJwks(dataDir: string): Promise<{ keys: JWK[] }> {
  const file = join(dataDir, JWKS_FILE);
  let text: string | undefined;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }

  if (text !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    // Refuse rather than silently regenerate: a new key would invalidate every token issued so far.
    if (!isPrivateJwks(parsed)) {
      throw new Error(`dev IdP: ${file} is not a private JWK set; delete it to generate a new signing key`);
    }
    return parsed;
  }

  const jwks = { keys: [await generateSigningKey()] };
  await mkdir(dataDir, { recursive: true });
  // Write then rename, so a crash never leaves a half-written key file that would block the next start.
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(jwks, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, file);
  return jwks;
}

function isPrivateJwks(value: unknown): value is { keys: JWK[] } {
  if (!isRecord(value) || !Array.isArray(value.keys) || value.keys.length === 0) return false;
  return value.keys.every(
    (k: unknown) =>
      isRecord(k) && typeof k.kty === 'string' && typeof k.d === 'string' && typeof k.kid === 'string',
  );
}

// ---------------------------------------------------------------------------------------------
// Small helpers

function issuerHostFor(host: string): string {
  // Loopback and wildcard binds are reached as "localhost" by browsers and by our own config defaults.
  if (['127.0.0.1', 'localhost', '::1', '0.0.0.0', '::'].includes(host)) return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

/** Same one-line JSON shape as the local API gateway's logs. */
function logError(msg: string, error: string): void {
  process.stderr.write(`${JSON.stringify({ level: 'error', msg, error })}\n`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

function escapeHtml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

// ---------------------------------------------------------------------------------------------
// HTML. Plain pages: no external fonts, scripts or styles.

const SECURITY_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  // No form-action: browsers apply it to the redirect chain that ends at the loopback redirect URI.
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
} as const;

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, SECURITY_HEADERS).end(html);
}

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} - control plane dev IdP</title>
<style>body{font-family:system-ui,sans-serif;max-width:24rem;margin:3rem auto;padding:0 1rem}label,input,button{display:block;width:100%;box-sizing:border-box;margin:.25rem 0}input{padding:.4rem}button{padding:.5rem;margin-top:.75rem}.error{color:#b00020}small{color:#555}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${body}
<p><small>Local development IdP. Accounts: see doc/operator-idp.md.</small></p>
</body>
</html>`;
}

function loginPage(uid: string, error?: string, email = ''): string {
  const base = `/interaction/${encodeURIComponent(uid)}`;
  return page(
    'Sign in',
    `${error ? `<p class="error" role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="${base}/login" autocomplete="off">
<label for="email">Email</label>
<input id="email" type="email" name="email" autocomplete="username" required autofocus value="${escapeHtml(email)}">
<label for="password">Password</label>
<input id="password" type="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
<form method="post" action="${base}/abort"><button type="submit">Cancel</button></form>`,
  );
}

// Device flow pages. `form` is provider-generated HTML (already escaped by oidc-provider).

async function renderUserCodeInput(ctx: KoaishContext, form: string, _out: unknown, err?: Error): Promise<void> {
  const message = err
    ? '<p class="error" role="alert">That code was not accepted. Check it and try again.</p>'
    : '<p>Enter the code shown by cpctl.</p>';
  ctx.type = 'html';
  ctx.body = page(
    'Device sign-in',
    `${message}${form}<button type="submit" form="op.deviceInputForm">Continue</button>`,
  );
}

async function renderUserCodeConfirm(
  ctx: KoaishContext,
  form: string,
  client: { clientId: string; clientName?: string },
  _deviceInfo: unknown,
  userCode: string,
): Promise<void> {
  ctx.type = 'html';
  ctx.body = page(
    'Confirm device',
    `<p><strong>${escapeHtml(client.clientName ?? client.clientId)}</strong> asks to sign in with code</p>
<p><code>${escapeHtml(userCode)}</code></p>
<p>Continue only if this code is shown on your terminal.</p>
${form}
<button type="submit" form="op.deviceConfirmForm">Continue</button>
<button type="submit" form="op.deviceConfirmForm" name="abort" value="yes">Abort</button>`,
  );
}

async function renderDeviceSuccess(ctx: KoaishContext): Promise<void> {
  ctx.type = 'html';
  ctx.body = page('Signed in', '<p>The device is signed in. You can close this page.</p>');
}

async function renderLogout(ctx: KoaishContext, form: string): Promise<void> {
  ctx.type = 'html';
  ctx.body = page(
    'Sign out',
    `<p>Sign out of the dev IdP?</p>${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes">Sign out</button>
<button type="submit" form="op.logoutForm">Stay signed in</button>`,
  );
}

async function renderLogoutSuccess(ctx: KoaishContext): Promise<void> {
  ctx.type = 'html';
  ctx.body = page('Signed out', '<p>You are signed out.</p>');
}

async function renderProviderError(ctx: KoaishContext, out: Record<string, unknown>): Promise<void> {
  ctx.type = 'html';
  const rows = Object.entries(out)
    .map(([k, v]) => `<p><strong>${escapeHtml(k)}</strong>: ${escapeHtml(String(v))}</p>`)
    .join('');
  ctx.body = page('Sign-in error', rows);
}
