import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface DataKeyProps {
  readonly stage: string;
  readonly region: string;
  /** RETAIN instead of DESTROY (every stage except dev). */
  readonly retain: boolean;
}

/**
 * NFR-SEC-002: the customer-managed KMS key that encrypts the control plane's data at rest.
 * One per stage and region; rotation on. Exposed so later resources (queues, buckets, ...) can reuse it.
 */
export class DataKey extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: DataKeyProps) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: `Control plane data key (${props.stage}, ${props.region})`,
      alias: `alias/control-plane/${props.stage}/${props.region}`,
      enableKeyRotation: true,
      removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      // Only relevant when the key is destroyed (dev): the shortest window allowed.
      pendingWindow: Duration.days(props.retain ? 30 : 7),
    });
  }
}
