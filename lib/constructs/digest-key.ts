import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/** The signing algorithm the digest signer uses (ECDSA over P-256 with SHA-256): the only one granted. */
export const DIGEST_SIGNING_ALGORITHM = 'ECDSA_SHA_256';

export interface DigestKeyProps {
  readonly stage: string;
  readonly region: string;
}

/**
 * Issue #6 (tamper evidence): the asymmetric KMS key (ECC_NIST_P256, SIGN_VERIFY) that signs the audit
 * digests, like CloudTrail's digest files. The private key never leaves KMS; verifiers (`cpctl audit
 * verify`) use the public key that AuditDigestsList publishes.
 *
 * RETAIN in every stage, dev included: a digest is evidence for as long as the audit records it covers
 * (RETENTION.auditDays), and it can only be verified while its public key can still be fetched. The key
 * policy is CDK's default (the account root, delegating to IAM); the functions get exactly one action each
 * through `grantSign` and `grantPublicKey`. Asymmetric keys cannot rotate automatically: a new key means a
 * new key id in the digests, which verifiers already handle (the key id is part of each digest).
 */
export class DigestKey extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: DigestKeyProps) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: `Control plane audit digest signing key (${props.stage}, ${props.region}); issue #6`,
      alias: `alias/control-plane/${props.stage}/${props.region}/audit-digest`,
      keySpec: kms.KeySpec.ECC_NIST_P256,
      keyUsage: kms.KeyUsage.SIGN_VERIFY,
      removalPolicy: RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(30),
    });
  }

  /** kms:Sign on this key, and only with ECDSA_SHA_256 (the AuditDigest job). */
  grantSign(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['kms:Sign'],
      resourceArns: [this.key.keyArn],
      conditions: { StringEquals: { 'kms:SigningAlgorithm': DIGEST_SIGNING_ALGORITHM } },
    });
    grant.assertSuccess();
    return grant;
  }

  /** kms:GetPublicKey on this key (the digest list publishes the public key for verification). */
  grantPublicKey(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({ grantee, actions: ['kms:GetPublicKey'], resourceArns: [this.key.keyArn] });
    grant.assertSuccess();
    return grant;
  }
}
