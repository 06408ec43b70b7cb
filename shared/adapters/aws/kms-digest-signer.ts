/**
 * AWS DigestSigner (issue #6, ADR-0008): an asymmetric KMS key (ECC_NIST_P256, SIGN_VERIFY) signs the
 * audit digests; the private key never leaves KMS. KMS takes at most 4,096 bytes as a RAW message and a
 * digest names up to thousands of batches, so the adapter hashes the document itself and sends the
 * SHA-256 with MessageType DIGEST: the signature is the same as KMS would compute over the RAW message
 * (ECDSA_SHA_256 hashes with SHA-256), and `crypto.verify('sha256', document, spki, signature)` checks it,
 * exactly as for the local key file.
 */
import { createHash } from 'node:crypto';
import { GetPublicKeyCommand, SignCommand, type KMSClient } from '@aws-sdk/client-kms';
import { InternalError, UnavailableError, type AppError } from '../../domain/errors';
import type { DigestSigner } from '../../domain/ingest-ports';

const THROTTLED = new Set(['ThrottlingException', 'KMSInternalException', 'DependencyTimeoutException', 'KeyUnavailableException']);

function translate(err: unknown, what: string): AppError {
  const name = err instanceof Error ? err.name : 'unknown';
  // Throttled or briefly unavailable: the job's next run retries. Anything else (disabled key, missing grant) is a fault.
  return THROTTLED.has(name) ? new UnavailableError(`kms ${what}: ${name}`, err) : new InternalError(`kms ${what}: ${name}`, err);
}

export class KmsDigestSigner implements DigestSigner {
  readonly keyId: string;
  private publicKeyDer: Promise<Uint8Array> | undefined;

  constructor(readonly options: { readonly kms: KMSClient; readonly keyId: string }) {
    this.keyId = options.keyId;
  }

  async sign(message: Uint8Array): Promise<Uint8Array> {
    if (this.keyId === '') throw new InternalError('no digest signing key configured');
    const digest = createHash('sha256').update(message).digest();
    let out;
    try {
      out = await this.options.kms.send(new SignCommand({ KeyId: this.keyId, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' }));
    } catch (err) {
      throw translate(err, 'Sign');
    }
    if (!out.Signature) throw new InternalError('kms Sign returned no signature');
    return out.Signature;
  }

  /** Cached per execution environment: a KMS key's public half never changes. A failure is not cached. */
  publicKey(): Promise<Uint8Array> {
    this.publicKeyDer ??= this.fetchPublicKey().catch((err: unknown) => {
      this.publicKeyDer = undefined;
      throw err;
    });
    return this.publicKeyDer;
  }

  private async fetchPublicKey(): Promise<Uint8Array> {
    if (this.keyId === '') throw new InternalError('no digest signing key configured');
    let out;
    try {
      out = await this.options.kms.send(new GetPublicKeyCommand({ KeyId: this.keyId }));
    } catch (err) {
      throw translate(err, 'GetPublicKey');
    }
    if (!out.PublicKey) throw new InternalError('kms GetPublicKey returned no key');
    // A misconfigured key (RSA, or a symmetric one) would sign digests no verifier accepts: refuse it early.
    if (out.KeySpec !== undefined && out.KeySpec !== 'ECC_NIST_P256') throw new InternalError(`digest key ${this.keyId} is ${out.KeySpec}, not ECC_NIST_P256`);
    return out.PublicKey;
  }
}
