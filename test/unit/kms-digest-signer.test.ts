/**
 * The AWS digest signer (issue #6, ADR-0008): KMS has no local stand-in, so these tests mock the client
 * and assert the exact commands sent — SHA-256 of the document as a DIGEST message, ECDSA_SHA_256 — and
 * that what comes back verifies exactly like the local key file's signatures.
 */
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { GetPublicKeyCommand, KMSClient, KMSInvalidStateException, SignCommand } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { KmsDigestSigner } from '../../shared/adapters/aws/kms-digest-signer';
import { verifyDigestSignature } from '../../shared/domain/audit-digest';
import { AppError } from '../../shared/domain/errors';

const kms = mockClient(KMSClient);
afterEach(() => kms.reset());

const KEY_ARN = 'arn:aws:kms:eu-central-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const spki = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));

function signer(keyId = KEY_ARN): KmsDigestSigner {
  return new KmsDigestSigner({ kms: new KMSClient({ region: 'eu-central-1' }), keyId });
}

describe('KmsDigestSigner', () => {
  it('CON-SEC-002: signs the SHA-256 of the document (MessageType DIGEST, ECDSA_SHA_256); the DER signature verifies over the document itself', async () => {
    // A digest naming thousands of batches is far beyond KMS's 4,096-byte RAW limit.
    const document = JSON.stringify({ seq: 7, batches: Array.from({ length: 200 }, (_, i) => ({ batchId: `b-${i}`, hash: 'f'.repeat(64) })) });
    expect(document.length).toBeGreaterThan(4096);
    // KMS's ECDSA_SHA_256 over a DIGEST message equals signing the original message with SHA-256.
    kms.on(SignCommand).resolves({ KeyId: KEY_ARN, Signature: new Uint8Array(sign('sha256', Buffer.from(document), { key: privateKey, dsaEncoding: 'der' })), SigningAlgorithm: 'ECDSA_SHA_256' });

    const sig = await signer().sign(new TextEncoder().encode(document));

    const calls = kms.commandCalls(SignCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input).toMatchObject({ KeyId: KEY_ARN, MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' });
    expect(Buffer.from(input.Message!)).toEqual(createHash('sha256').update(document).digest());
    expect(verifyDigestSignature(document, Buffer.from(sig).toString('base64'), spki)).toBe(true);
  });

  it('CON-SEC-002: the public key is fetched once (GetPublicKey) and cached; a failed fetch is retried', async () => {
    // KMS models no ThrottlingException class: the SDK raises a service exception by that name.
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    kms.on(GetPublicKeyCommand).rejectsOnce(throttled).resolves({ KeyId: KEY_ARN, PublicKey: spki, KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    const s = signer();
    const err = await s.publicKey().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('ERR-SYS-503');
    expect(Buffer.from(await s.publicKey())).toEqual(Buffer.from(spki));
    expect(Buffer.from(await s.publicKey())).toEqual(Buffer.from(spki));
    expect(kms.commandCalls(GetPublicKeyCommand)).toHaveLength(2);
    expect(kms.commandCalls(GetPublicKeyCommand)[1]!.args[0].input).toEqual({ KeyId: KEY_ARN });
  });

  it('CON-SEC-002: a key that is not ECC_NIST_P256 is refused; KMS errors become AppErrors, never SDK exceptions', async () => {
    kms.on(GetPublicKeyCommand).resolves({ KeyId: KEY_ARN, PublicKey: spki, KeySpec: 'RSA_2048' });
    await expect(signer().publicKey()).rejects.toMatchObject({ code: 'ERR-SYS-500' });
    kms.on(SignCommand).rejects(new KMSInvalidStateException({ message: 'key disabled', $metadata: {} }));
    const err = await signer().sign(new Uint8Array([1])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('ERR-SYS-500');
    await expect(signer('').sign(new Uint8Array([1]))).rejects.toMatchObject({ code: 'ERR-SYS-500' });
  });
});
