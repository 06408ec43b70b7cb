import { Duration, RemovalPolicy, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ARCHIVE_LAYOUT, RETENTION } from '../../shared/config/constants';

/** Days the S3 server access logs (which also record lifecycle expirations) are kept. */
export const ACCESS_LOG_DAYS = 400;

/** Prefix of the Firehose error output in each archive bucket (records that could not be partitioned or delivered). */
export const ARCHIVE_ERROR_PREFIX = 'errors/';

/** Who gets a bucket grant: a function's id (names the policy) and its role, in this stack or the parent. */
export interface GrantTarget {
  readonly id: string;
  readonly role: iam.IRole;
}

export interface ArchiveBucketsProps {
  /** NFR-SEC-002: the customer-managed data key (SSE-KMS with an S3 Bucket Key). */
  readonly dataKey: kms.IKey;
  /** RETAIN every bucket (every stage except dev). */
  readonly protectData: boolean;
}

/**
 * Issue #6 (FR-LOG-001/002, FR-BILL-001, FR-OPS-003, CON-DATA-002/003): the S3 side of ingestion.
 *
 * - `auditArchive`: Firehose delivers audit records here, under `audit/tenant=<id>/date=<yyyy-mm-dd>/`.
 *   S3 Object Lock in COMPLIANCE mode with a default retention of RETENTION.auditDays: no one, the account
 *   root included, can delete or overwrite a record version before its seven years are over.
 * - `billingArchive`: billing events, `billing/tenant=<id>/date=<yyyy-mm-dd>/`, kept RETENTION.billingDays.
 * - `exports`: the CSV exports of audit logs (download artefacts, not records): RETENTION.exportDays.
 * - `accessLogs`: S3 server access logs of the three. They also record the lifecycle expirations
 *   (S3.EXPIRE.OBJECT, S3.CREATE.DELETEMARKER), which is how the deletions at the end of retention on the S3
 *   side are recorded (FR-OPS-003: the deletion is itself audited; the table side is audited by the
 *   Retention job).
 *
 * Every bucket: public access blocked, TLS only (bucket policy), versioning (not the access-log bucket),
 * encryption (SSE-KMS with the data key and a Bucket Key; the access-log bucket SSE-S3, the only encryption
 * S3 server access logging delivers to), lifecycle rules from RETENTION.
 *
 * Grants are one IAM policy per grantee, created here (`<id>BucketAccess`) and attached to the grantee's
 * role even when the role lives in the parent stack: the object-level wildcards then name these buckets by
 * their logical ids in this template, and each cdk-nag acknowledgement sits on the exact policy.
 */
export class ArchiveBuckets extends Construct {
  readonly accessLogs: s3.Bucket;
  readonly auditArchive: s3.Bucket;
  readonly billingArchive: s3.Bucket;
  readonly exports: s3.Bucket;
  private readonly dataKey: kms.IKey;

  constructor(scope: Construct, id: string, props: ArchiveBucketsProps) {
    super(scope, id);
    this.dataKey = props.dataKey;
    // Grant S3 log delivery through a bucket policy (scoped to the source buckets and this account) instead
    // of the legacy LogDeliveryWrite ACL, so the log bucket can keep ACLs disabled (BucketOwnerEnforced).
    // Set on this construct only (it must precede the children): the rest of the app is unaffected.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);

    const destroyable = !props.protectData;
    const removal = (canAutoDelete: boolean): Pick<s3.BucketProps, 'removalPolicy' | 'autoDeleteObjects'> =>
      destroyable && canAutoDelete ? { removalPolicy: RemovalPolicy.DESTROY, autoDeleteObjects: true } : { removalPolicy: RemovalPolicy.RETAIN };
    const common = {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    } as const satisfies s3.BucketProps;
    const kmsEncrypted = {
      ...common,
      versioned: true,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.dataKey,
      bucketKeyEnabled: true,
    } as const satisfies s3.BucketProps;

    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      ...common,
      // S3 server access logging delivers only to SSE-S3 buckets (not SSE-KMS).
      encryption: s3.BucketEncryption.S3_MANAGED,
      lifecycleRules: [{ id: 'access-log-retention', expiration: Duration.days(ACCESS_LOG_DAYS), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
      ...removal(true),
    });
    Validations.of(this.accessLogs.node.defaultChild as s3.CfnBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This is the server access log target of the audit archive, billing archive and export buckets; logging it into itself would log its own log deliveries in a loop.',
    });

    const logsTo = (prefix: string): Pick<s3.BucketProps, 'serverAccessLogsBucket' | 'serverAccessLogsPrefix'> => ({
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: prefix,
    });

    this.auditArchive = new s3.Bucket(this, 'AuditArchive', {
      ...kmsEncrypted,
      ...logsTo('audit-archive/'),
      // Issue #6: WORM storage for audit records. COMPLIANCE mode cannot be shortened or lifted by anyone
      // while an object version is under retention.
      //
      // Firehose is the writer. S3 accepts an upload into a bucket with default retention only with an
      // integrity header (Content-MD5 or x-amz-checksum-*). Firehose's documentation neither promises nor
      // excludes an Object Lock destination, and we could not verify it offline. If Firehose's PUTs lacked
      // that header, deliveries would fail with InvalidRequest: Firehose retries for up to 24 hours (the
      // stream's error log shows it) and the stream's FreshnessAlarm fires within 15 minutes; the records
      // stay in the table, the primary store that the digest chain covers (ADR-0008/0009). Check
      // DeliveryToS3.Success on the first deployment.
      objectLockEnabled: true,
      objectLockDefaultRetention: s3.ObjectLockRetention.compliance(Duration.days(RETENTION.auditDays)),
      lifecycleRules: retentionRules(RETENTION.auditDays),
      // Always RETAIN, dev included: versions under COMPLIANCE retention cannot be deleted by anyone, so
      // autoDeleteObjects would fail on stack deletion (leaving the stack in DELETE_FAILED), and
      // CloudFormation cannot delete a bucket that still holds objects. The bucket outlives the stack.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.billingArchive = new s3.Bucket(this, 'BillingArchive', {
      ...kmsEncrypted,
      ...logsTo('billing-archive/'),
      lifecycleRules: retentionRules(RETENTION.billingDays),
      ...removal(true),
    });

    this.exports = new s3.Bucket(this, 'Exports', {
      ...kmsEncrypted,
      ...logsTo('exports/'),
      lifecycleRules: retentionRules(RETENTION.exportDays),
      ...removal(true),
    });
  }

  /**
   * FR-LOG-002: the export job streams a CSV into the exports bucket (PutObject covers the multipart
   * Create/UploadPart/Complete calls; Abort cleans up a failed one). SSE-KMS multipart uploads need
   * GenerateDataKey and Decrypt on the bucket's key, here only through S3 and only for this bucket.
   */
  grantExportWrite(target: GrantTarget): iam.Policy {
    const policy = this.policyFor(target);
    policy.addStatements(
      new iam.PolicyStatement({ sid: 'ExportObjectsWrite', actions: ['s3:PutObject', 's3:AbortMultipartUpload'], resources: [this.exports.arnForObjects('*')] }),
      this.keyViaS3(this.exports, 'ExportKeyViaS3', ['kms:GenerateDataKey', 'kms:Decrypt']),
    );
    this.acknowledgeObjectWildcards(policy, this.exports, ['*'], 'the exports bucket holds nothing but CSV exports, whose object keys are generated per export');
    return policy;
  }

  /** FR-LOG-002: the export status route presigns GET URLs of finished exports (signed with its own role). */
  grantExportRead(target: GrantTarget): iam.Policy {
    const policy = this.policyFor(target);
    policy.addStatements(
      new iam.PolicyStatement({ sid: 'ExportObjectsRead', actions: ['s3:GetObject'], resources: [this.exports.arnForObjects('*')] }),
      this.keyViaS3(this.exports, 'ExportKeyDecryptViaS3', ['kms:Decrypt']),
    );
    this.acknowledgeObjectWildcards(policy, this.exports, ['*'], 'the exports bucket holds nothing but CSV exports, whose object keys are generated per export');
    return policy;
  }

  /**
   * FR-OPS-002: the tenant purge lists and deletes a tenant's partitions (`<kind>/tenant=<id>/`) in both
   * archives, and nothing else: ListBucket only under the tenant prefixes, DeleteObject only on them.
   * Both buckets are versioned, so DeleteObject writes a delete marker; the noncurrent versions then expire
   * after a day (billing), while in the audit archive COMPLIANCE Object Lock keeps them until
   * RETENTION.auditDays (see the report of issue #6: purge vs. WORM). Listing and delete markers need no
   * KMS permission.
   */
  grantArchivePurge(target: GrantTarget): iam.Policy {
    const policy = this.policyFor(target);
    const archives = [
      { bucket: this.auditArchive, prefix: ARCHIVE_LAYOUT.auditPrefix, sid: 'Audit' },
      { bucket: this.billingArchive, prefix: ARCHIVE_LAYOUT.billingPrefix, sid: 'Billing' },
    ];
    for (const { bucket, prefix, sid } of archives) {
      const tenantPrefix = `${prefix}tenant=*`;
      policy.addStatements(
        new iam.PolicyStatement({
          sid: `${sid}ArchiveListTenantPartitions`,
          actions: ['s3:ListBucket'],
          resources: [bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': [tenantPrefix] } },
        }),
        new iam.PolicyStatement({ sid: `${sid}ArchiveDeleteTenantPartitions`, actions: ['s3:DeleteObject'], resources: [bucket.arnForObjects(tenantPrefix)] }),
      );
      this.acknowledgeObjectWildcards(policy, bucket, [tenantPrefix], 'the tenant purge deletes whole tenant partitions, whose tenant ids are only known at run time');
    }
    return policy;
  }

  /** The grantee's bucket-access policy in this stack (one per grantee, created on first use). */
  private policyFor(target: GrantTarget): iam.Policy {
    const id = `${target.id}BucketAccess`;
    const existing = this.node.tryFindChild(id);
    if (existing instanceof iam.Policy) return existing;
    return new iam.Policy(this, id, { roles: [target.role] });
  }

  /** The data key, only through S3 and only for objects of `bucket` (with a Bucket Key the context is the bucket ARN). */
  private keyViaS3(bucket: s3.Bucket, sid: string, actions: string[]): iam.PolicyStatement {
    return new iam.PolicyStatement({
      sid,
      actions,
      resources: [this.dataKey.keyArn],
      conditions: {
        StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` },
        StringLike: { 'kms:EncryptionContext:aws:s3:arn': [bucket.bucketArn, bucket.arnForObjects('*')] },
      },
    });
  }

  private acknowledgeObjectWildcards(policy: iam.Policy, bucket: s3.Bucket, patterns: string[], why: string): void {
    const bucketId = Stack.of(this).getLogicalId(bucket.node.defaultChild as CfnElement);
    Validations.of(policy).acknowledge(
      ...patterns.map((pattern) => ({
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${pattern}]`,
        reason: `Object-level S3 permission on one bucket only (${bucket.node.id}): ${why}.`,
      })),
    );
  }
}

/**
 * FR-OPS-003: current versions expire after `days` (S3 counts from creation); a noncurrent version (left by
 * an expiration or a purge's delete marker) one day later. Object Lock still wins: a locked version is only
 * removed once its retention is over, which for the audit archive is the same `days`. Expired delete markers
 * and abandoned multipart uploads are cleaned up.
 */
function retentionRules(days: number): s3.LifecycleRule[] {
  return [
    {
      id: `retention-${days}-days`,
      expiration: Duration.days(days),
      noncurrentVersionExpiration: Duration.days(1),
      abortIncompleteMultipartUploadAfter: Duration.days(1),
    },
    { id: 'expired-delete-markers', expiredObjectDeleteMarker: true },
  ];
}
