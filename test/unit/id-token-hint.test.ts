import { SignJWT, UnsecuredJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { verifyIdTokenHint } from '../../shared/domain/identity/id-token-hint';
import { generateSigningKey, importSigningKey, publishedJwk, signJwt } from '../../shared/domain/identity/jwt';

type ActiveSigningKey = Awaited<ReturnType<typeof importSigningKey>>;

const ISSUER = 'https://login.example.com';
const CLAIMS = { iss: ISSUER, aud: 'client-1', sub: 'user-1', sid: 'session-1', tenant_id: 'tenant-1' };
let key: ActiveSigningKey;
let other: ActiveSigningKey;
let jwks: { keys: ReturnType<typeof publishedJwk>[] };

beforeAll(async () => {
  const g = await generateSigningKey();
  key = await importSigningKey(g.kid, g.privateJwk);
  jwks = { keys: [publishedJwk(g.kid, g.publicJwk)] };
  const o = await generateSigningKey();
  other = await importSigningKey(o.kid, o.privateJwk);
});

const idToken = (claims: Record<string, unknown> = CLAIMS, now = new Date(), signer = key) => signJwt(signer, claims, { typ: 'JWT', expiresInSeconds: 600, now });

describe('id_token_hint verification (RP-Initiated Logout 1.0 §2)', () => {
  it('RP-Initiated Logout §2: an ID token we issued names its client, user, session and tenant, even long expired', async () => {
    const expected = { clientId: 'client-1', sub: 'user-1', sid: 'session-1', tenantId: 'tenant-1' };
    expect(await verifyIdTokenHint(await idToken(), jwks, ISSUER)).toEqual(expected);
    expect(await verifyIdTokenHint(await idToken(CLAIMS, new Date(Date.now() - 90 * 86_400_000)), jwks, ISSUER)).toEqual(expected);
    expect(await verifyIdTokenHint(await idToken({ ...CLAIMS, aud: ['client-1'] }), jwks, ISSUER)).toMatchObject({ clientId: 'client-1' });
  });

  it('RP-Initiated Logout §2: anything we did not issue as an ID token is refused', async () => {
    const valid = await idToken();
    const [h, p, s] = valid.split('.') as [string, string, string];
    const flipped = `${h}.${p}.${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}`;
    const hints = {
      'alg none': new UnsecuredJWT(CLAIMS).encode(),
      'another key': await idToken(CLAIMS, new Date(), other),
      'altered signature': flipped,
      'altered payload': `${h}.${Buffer.from(JSON.stringify({ ...CLAIMS, sub: 'user-2' })).toString('base64url')}.${s}`,
      'another issuer': await idToken({ ...CLAIMS, iss: 'https://evil.example' }),
      'an access token': await signJwt(key, { ...CLAIMS, client_id: 'client-1', scope: 'openid' }, { typ: 'at+jwt', expiresInSeconds: 600, now: new Date() }),
      'two audiences': await idToken({ ...CLAIMS, aud: ['client-1', 'client-2'] }),
      'no subject': await idToken({ ...CLAIMS, sub: undefined }),
      'HS256': await new SignJWT(CLAIMS).setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: jwks.keys[0]!.kid! }).sign(new TextEncoder().encode('x'.repeat(32))),
      'not a JWT': 'hello',
    };
    for (const [name, hint] of Object.entries(hints)) expect(await verifyIdTokenHint(hint, jwks, ISSUER), name).toBeNull();
  });
});
