import { createHash, generateKeyPairSync, randomBytes, webcrypto } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, exportJWK, importJWK, jwtVerify, SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { atHash, generateSigningKey, importSigningKey, publishedJwk, signJwt } from '../../shared/domain/identity/jwt';
import type { ActiveSigningKey } from '../../shared/domain/identity/ports';

const NOW = new Date('2026-11-21T10:00:00.500Z');
const NOW_S = Math.floor(NOW.getTime() / 1000);

async function freshKey(): Promise<{ key: ActiveSigningKey; publicJwk: ReturnType<typeof publishedJwk> }> {
  const generated = await generateSigningKey();
  return { key: await importSigningKey(generated.kid, generated.privateJwk), publicJwk: publishedJwk(generated.kid, generated.publicJwk) };
}

describe('signJwt (ADR-0005: ES256 only, kid in every header)', () => {
  it('FR-AUTH-001: an access token has header {alg: ES256, kid, typ: at+jwt}, the caller\u2019s claims, and iat/exp from options', async () => {
    const { key, publicJwk } = await freshKey();
    const claims = { iss: 'https://issuer.example', sub: 'u1', aud: 'api', client_id: 'app', scope: 'openid profile', jti: 'j1', tid: 't1', sid: 's1' };
    const token = await signJwt(key, claims, { typ: 'at+jwt', expiresInSeconds: 600, now: NOW });

    expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', kid: key.kid, typ: 'at+jwt' });
    const { payload } = await jwtVerify(token, await importJWK(publicJwk, 'ES256'), { algorithms: ['ES256'], typ: 'at+jwt', currentDate: NOW });
    expect(payload).toEqual({ ...claims, iat: NOW_S, exp: NOW_S + 600 });
    expect(payload).not.toHaveProperty('nbf');
  });

  it('FR-AUTH-001: an ID token has typ JWT; nbf = iat only when asked for', async () => {
    const { key } = await freshKey();
    const token = await signJwt(key, { sub: 'u1', nonce: 'n' }, { typ: 'JWT', expiresInSeconds: 300, now: NOW, notBefore: true });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', kid: key.kid, typ: 'JWT' });
    expect(decodeJwt(token)).toEqual({ sub: 'u1', nonce: 'n', iat: NOW_S, nbf: NOW_S, exp: NOW_S + 300 });
  });

  it('FR-AUTH-001: refuses caller-supplied time claims and nonsensical lifetimes rather than silently overriding them', async () => {
    const { key } = await freshKey();
    await expect(signJwt(key, { exp: NOW_S + 999_999 }, { typ: 'JWT', expiresInSeconds: 300, now: NOW })).rejects.toThrow(/exp/);
    await expect(signJwt(key, { iat: 1 }, { typ: 'JWT', expiresInSeconds: 300, now: NOW })).rejects.toThrow(/iat/);
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(signJwt(key, {}, { typ: 'JWT', expiresInSeconds: bad, now: NOW })).rejects.toThrow(RangeError);
    }
    await expect(signJwt(key, {}, { typ: 'JWT', expiresInSeconds: 300, now: new Date(Number.NaN) })).rejects.toThrow(RangeError);
  });

  it('NFR-SEC-004: tokens are never alg none or HS*: the algorithm is fixed, an HMAC secret cannot sign, and the header cannot be injected through claims', async () => {
    const { key } = await freshKey();
    const token = await signJwt(key, { alg: 'none', typ: 'x', kid: 'evil' }, { typ: 'JWT', expiresInSeconds: 60, now: NOW });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'ES256', kid: key.kid, typ: 'JWT' });
    expect(token.split('.')[2]).toMatch(/^[A-Za-z0-9_-]{86}$/); // a 64-byte P-256 signature, not empty

    // Casts stand for a caller that bypasses the types (or a future refactor that widens them).
    const secret = randomBytes(32);
    await expect(signJwt({ ...key, alg: 'HS256' as 'ES256' }, {}, { typ: 'JWT', expiresInSeconds: 60, now: NOW })).rejects.toThrow(/unsupported/);
    await expect(signJwt({ ...key, privateKey: secret as unknown as ActiveSigningKey['privateKey'] }, {}, { typ: 'JWT', expiresInSeconds: 60, now: NOW })).rejects.toThrow();
    await expect(signJwt({ ...key, kid: '' }, {}, { typ: 'JWT', expiresInSeconds: 60, now: NOW })).rejects.toThrow(/kid/);
  });

  it('NFR-SEC-004: a verifier pinned to ES256 (as ours are) rejects none and HS256 tokens for the same claims', async () => {
    const { key, publicJwk } = await freshKey();
    const publicKey = await importJWK(publicJwk, 'ES256');
    const genuine = await signJwt(key, { sub: 'u1' }, { typ: 'JWT', expiresInSeconds: 60, now: NOW });
    await expect(jwtVerify(genuine, publicKey, { algorithms: ['ES256'], currentDate: NOW })).resolves.toBeDefined();
    const unsecured = new UnsecuredJWT({ sub: 'u1' }).setIssuedAt(NOW_S).setExpirationTime(NOW_S + 60).encode();
    await expect(jwtVerify(unsecured, publicKey, { algorithms: ['ES256'], currentDate: NOW })).rejects.toThrow();
    const hs = await new SignJWT({ sub: 'u1' }).setProtectedHeader({ alg: 'HS256', kid: key.kid }).sign(new TextEncoder().encode(JSON.stringify(publicJwk)));
    await expect(jwtVerify(hs, publicKey, { algorithms: ['ES256'], currentDate: NOW })).rejects.toThrow();
  });
});

describe('atHash (OIDC Core 3.1.3.6)', () => {
  it('FR-AUTH-001: matches the OpenID Connect Core Appendix A example (SHA-256 family)', () => {
    // OIDC Core 1.0, A.3/A.4: access_token and the at_hash of the ID token issued with it.
    expect(atHash('jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y')).toBe('77QmUPtjPfzWtF2AnpK9RQ');
  });

  it('FR-AUTH-001: agrees with an independent implementation (WebCrypto digest, manual base64url) on random tokens', async () => {
    for (let i = 0; i < 20; i++) {
      const token = randomBytes(24 + i).toString('base64url');
      const digest = new Uint8Array(await webcrypto.subtle.digest('SHA-256', new TextEncoder().encode(token)));
      const expected = btoa(String.fromCharCode(...digest.slice(0, 16))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
      expect(atHash(token)).toBe(expected);
      expect(atHash(token)).toHaveLength(22);
    }
  });

  it('FR-AUTH-001: refuses a token that is not printable ASCII instead of hashing an encoding-dependent value', () => {
    expect(() => atHash('tök')).toThrow(TypeError);
    expect(() => atHash('')).toThrow(TypeError);
  });
});

describe('Signing key material (shared by both SigningKeyStore adapters)', () => {
  it('NFR-SEC-004: generateSigningKey gives a P-256 pair whose kid is the RFC 7638 thumbprint, computed independently here', async () => {
    const k = await generateSigningKey();
    const members = JSON.stringify({ crv: k.publicJwk.crv, kty: k.publicJwk.kty, x: k.publicJwk.x, y: k.publicJwk.y });
    expect(k.kid).toBe(createHash('sha256').update(members).digest('base64url'));
    expect(k.privateJwk).toMatchObject({ ...k.publicJwk, d: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    expect(publishedJwk(k.kid, k.publicJwk)).toEqual({ ...k.publicJwk, kid: k.kid, use: 'sig', alg: 'ES256' });
    expect(publishedJwk(k.kid, k.privateJwk)).not.toHaveProperty('d');
  });

  it('NFR-SEC-004: importSigningKey gives a non-extractable key and refuses material that does not match its kid', async () => {
    const a = await generateSigningKey();
    const b = await generateSigningKey();
    const imported = await importSigningKey(a.kid, a.privateJwk);
    expect(imported.privateKey).toMatchObject({ extractable: false, type: 'private' });
    await expect(exportJWK(imported.privateKey)).rejects.toThrow();

    await expect(importSigningKey(b.kid, a.privateJwk)).rejects.toThrow(/does not match kid/);
    // The public half of one key with the private scalar of another (Node's import validates the pair).
    await expect(importSigningKey(a.kid, { ...a.privateJwk, d: b.privateJwk.d })).rejects.toThrow(/not a valid P-256 key/);
  });

  it('NFR-SEC-004: a KeyObject-backed ActiveSigningKey (port allows it) signs the same way', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const token = await signJwt({ kid: 'k1', alg: 'ES256', privateKey }, { sub: 'u' }, { typ: 'JWT', expiresInSeconds: 60, now: NOW });
    await expect(jwtVerify(token, publicKey, { algorithms: ['ES256'], currentDate: NOW })).resolves.toBeDefined();
  });
});
