import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/**
 * The `purpose` the signing-key store puts into every Encrypt/Decrypt encryption context
 * (SIGNING_KEY_PURPOSE in shared/adapters/aws/kms-signing-keys.ts; lib/ may not import runtime code, the
 * infra tests check that both agree).
 */
export const TOKEN_SIGNING_PURPOSE = 'token-signing';

export type TokenSigningKeyAction = 'kms:Encrypt' | 'kms:Decrypt';

export interface TokenSigningKeyProps {
  readonly stage: string;
  readonly region: string;
  /** RETAIN instead of DESTROY (every stage except dev). */
  readonly retain: boolean;
}

/**
 * ADR-0005, NFR-SEC-004: the symmetric customer-managed key that wraps the ES256 token-signing keys
 * (the private JWKs are stored in the table only as ciphertext under this key). One per stage and region,
 * rotation on, separate from the data key so that reading the table never implies using it.
 *
 * The key policy is CDK's default (the account root, which delegates to IAM). Access is granted to the
 * functions' roles with `grantTokenSigning`, and only with the token-signing encryption context.
 */
export class TokenSigningKey extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: TokenSigningKeyProps) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: `Control plane token-signing wrap key (${props.stage}, ${props.region}); ADR-0005`,
      alias: `alias/control-plane/${props.stage}/${props.region}/token-signing`,
      keySpec: kms.KeySpec.SYMMETRIC_DEFAULT,
      keyUsage: kms.KeyUsage.ENCRYPT_DECRYPT,
      enableKeyRotation: true,
      // Destroying the key destroys every wrapped signing key with it: tokens in flight stop verifying.
      removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(props.retain ? 30 : 7),
    });
  }

  /**
   * Allows exactly `actions` on this key to `grantee`, and only when the request's encryption context
   * carries `purpose = token-signing` (NFR-SEC-005).
   */
  grantTokenSigning(grantee: iam.IGrantable, ...actions: TokenSigningKeyAction[]): iam.Grant {
    if (actions.length === 0) throw new Error('grantTokenSigning needs at least one action');
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions,
      resourceArns: [this.key.keyArn],
      conditions: { StringEquals: { 'kms:EncryptionContext:purpose': TOKEN_SIGNING_PURPOSE } },
    });
    grant.assertSuccess();
    return grant;
  }
}
