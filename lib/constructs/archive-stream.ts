import { ArnFormat, Duration, RemovalPolicy, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ARCHIVE_ERROR_PREFIX } from './archive-buckets';

/** Dynamic partitioning: Firehose buffers per partition; 64 MiB is the smallest size it accepts with it. */
export const ARCHIVE_BUFFER = { intervalSeconds: 60, sizeMiB: 64 } as const;

/**
 * The JQ query that extracts the partition keys from each record. The consumers put one JSON object per
 * record, shaped `{ partitionTenant, partitionDate, record }` (ArchivedRecord in
 * shared/domain/ingest-ports.ts) and already ending in a newline (shared/adapters/aws/firehose-archive.ts),
 * so the delivered objects are NDJSON without an AppendDelimiterToRecord processor (which would double it).
 */
export const PARTITION_QUERY = '{tenant: .partitionTenant, date: .partitionDate}';

/** `audit/` → `audit/tenant=!{partitionKeyFromQuery:tenant}/date=!{partitionKeyFromQuery:date}/` (ARCHIVE_LAYOUT). */
export function partitionedPrefix(kindPrefix: string): string {
  return `${kindPrefix}tenant=!{partitionKeyFromQuery:tenant}/date=!{partitionKeyFromQuery:date}/`;
}

export interface ArchiveStreamProps {
  /** ARCHIVE_LAYOUT.auditPrefix or billingPrefix. */
  readonly kindPrefix: string;
  readonly bucket: s3.Bucket;
  /** The data key: SSE-KMS of the delivered objects and SSE of the stream itself. */
  readonly dataKey: kms.IKey;
  readonly retainLogs: boolean;
}

/**
 * Issue #6: a DirectPut Firehose stream into one archive bucket, partitioned by tenant and date
 * (dynamic partitioning with inline JQ parsing), encrypted at rest in the stream (SSE with the data key) and
 * in S3 (SSE-KMS with the data key), with error logging to CloudWatch Logs. Its role may write only under
 * its own prefixes of its own bucket, and use the data key only through S3 for that bucket.
 *
 * The L1 is used because the L2 `S3Bucket` destination grants its role `grantReadWrite` on the whole bucket
 * (DeleteObject included), which an append-only archive role must not have.
 */
export class ArchiveStream extends Construct {
  readonly stream: firehose.CfnDeliveryStream;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ArchiveStreamProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { bucket, dataKey, kindPrefix } = props;

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: props.retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    const logStream = new logs.LogStream(this, 'DeliveryLogs', {
      logGroup: this.logGroup,
      removalPolicy: props.retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    // Confused-deputy protection: only Firehose acting for this account may assume the role.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com', { conditions: { StringEquals: { 'sts:ExternalId': stack.account } } }),
      description: `Firehose delivery into ${kindPrefix} of the archive bucket (${stack.region})`,
    });
    const objectPrefixes = [kindPrefix, ARCHIVE_ERROR_PREFIX].map((p) => `${p}*`);
    // The permissions the Firehose documentation lists for an S3 destination, scoped to this bucket and prefixes.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ArchiveBucket',
        actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
        resources: [bucket.bucketArn],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ArchiveObjects',
        actions: ['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload'],
        resources: objectPrefixes.map((p) => bucket.arnForObjects(p)),
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DataKeyViaS3',
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [dataKey.keyArn],
        conditions: {
          StringEquals: { 'kms:ViaService': `s3.${stack.region}.amazonaws.com` },
          StringLike: { 'kms:EncryptionContext:aws:s3:arn': [bucket.bucketArn, bucket.arnForObjects('*')] },
        },
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ErrorLogs',
        actions: ['logs:PutLogEvents'],
        resources: [
          stack.formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: `${this.logGroup.logGroupName}:log-stream:${logStream.logStreamName}`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    const policy = this.role.node.findChild('DefaultPolicy') as iam.Policy;
    const bucketId = stack.getLogicalId(bucket.node.defaultChild as CfnElement);
    Validations.of(policy).acknowledge(
      ...objectPrefixes.map((p) => ({
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${p}]`,
        reason: `Firehose writes objects whose keys it generates (partition, timestamp, random suffix) under ${p} of this one archive bucket; nothing outside these prefixes, and no deletes.`,
      })),
    );

    this.stream = new firehose.CfnDeliveryStream(this, 'Stream', {
      deliveryStreamType: 'DirectPut',
      deliveryStreamEncryptionConfigurationInput: { keyType: 'CUSTOMER_MANAGED_CMK', keyArn: dataKey.keyArn },
      extendedS3DestinationConfiguration: {
        bucketArn: bucket.bucketArn,
        roleArn: this.role.roleArn,
        prefix: partitionedPrefix(kindPrefix),
        errorOutputPrefix: `${ARCHIVE_ERROR_PREFIX}${kindPrefix}!{firehose:error-output-type}/date=!{timestamp:yyyy-MM-dd}/`,
        bufferingHints: { intervalInSeconds: ARCHIVE_BUFFER.intervalSeconds, sizeInMBs: ARCHIVE_BUFFER.sizeMiB },
        compressionFormat: 'UNCOMPRESSED',
        encryptionConfiguration: { kmsEncryptionConfig: { awskmsKeyArn: dataKey.keyArn } },
        cloudWatchLoggingOptions: { enabled: true, logGroupName: this.logGroup.logGroupName, logStreamName: logStream.logStreamName },
        dynamicPartitioningConfiguration: { enabled: true, retryOptions: { durationInSeconds: 300 } },
        processingConfiguration: {
          enabled: true,
          processors: [
            {
              type: 'MetadataExtraction',
              parameters: [
                { parameterName: 'MetadataExtractionQuery', parameterValue: PARTITION_QUERY },
                { parameterName: 'JsonParsingEngine', parameterValue: 'JQ-1.6' },
              ],
            },
          ],
        },
      },
    });
    // The role's permissions must exist before Firehose validates the destination at creation.
    this.stream.node.addDependency(policy);
  }

  /** The stream name (Ref), what the consumers get as AUDIT_STREAM_NAME / BILLING_STREAM_NAME. */
  get streamName(): string {
    return this.stream.ref;
  }

  /** firehose:PutRecordBatch on this stream only (what the consumer's FirehoseArchive calls). */
  grantPutRecordBatch(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({ grantee, actions: ['firehose:PutRecordBatch'], resourceArns: [this.stream.attrArn] });
    grant.assertSuccess();
    return grant;
  }

  /**
   * Delivery freshness: the age of the oldest record not yet in S3. Normally about the buffer interval; a
   * rising value means deliveries fail (Firehose retries S3 for up to 24 hours, then drops the data).
   */
  freshnessAlarm(id: string): cloudwatch.Alarm {
    return new cloudwatch.Alarm(this, id, {
      alarmDescription: `Firehose ${this.node.id}: records older than 15 minutes are not yet delivered to S3 (see the stream's error logs)`,
      metric: new cloudwatch.Metric({
        namespace: 'AWS/Firehose',
        metricName: 'DeliveryToS3.DataFreshness',
        dimensionsMap: { DeliveryStreamName: this.stream.ref },
        statistic: 'Maximum',
        period: Duration.minutes(5),
      }),
      threshold: 15 * 60,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}
