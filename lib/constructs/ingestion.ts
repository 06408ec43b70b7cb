import { Duration, Names, NestedStack, Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ARCHIVE_LAYOUT, INGEST_ENV } from '../../shared/config/constants';
import { QUEUES, type QueueDef, type QueueId, type RouteDef } from '../../shared/config/routes';
import { ArchiveBuckets } from './archive-buckets';
import { ArchiveStream } from './archive-stream';
import { DigestKey } from './digest-key';
import { RouteFunction, type RouteFunctionProps } from './route-function';

/** Dead-letter queues keep messages this long (the SQS maximum): time to look, fix and redrive. */
export const DLQ_RETENTION_DAYS = 14;
/** Audit and billing consumers wait at most this long to fill a batch (throughput over latency, a little). */
export const ARCHIVE_CONSUMER_BATCHING_WINDOW_SECONDS = 1;
/** The queue's visibility timeout is this many times the consumer's timeout (AWS guidance for SQS event sources). */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

/** Alarm when a queue's oldest message is older than this: at least 15 minutes, and twice the consumer timeout. */
export function oldestMessageAlarmSeconds(def: QueueDef): number {
  return Math.max(15 * 60, 2 * def.consumerTimeoutSeconds);
}

/** The RouteDef a consumer function is built from (as the stack does for jobs). */
export function consumerRoute(def: QueueDef): RouteDef {
  return { id: def.consumerId, method: 'POST', path: `/(sqs:${def.id})`, entry: def.consumerEntry, table: def.table, description: def.description };
}

export interface IngestQueue {
  readonly def: QueueDef;
  readonly queue: sqs.Queue;
  readonly dlq: sqs.Queue;
}

export interface IngestionProps {
  readonly stage: string;
  readonly region: string;
  /** NFR-SEC-002: queues, buckets and streams are encrypted with the stack's data key. */
  readonly dataKey: kms.Key;
  /** RETAIN buckets and log groups (every stage except dev). */
  readonly protectData: boolean;
}

/**
 * Issue #6: billing and audit ingestion, export and retention, as a nested stack of the regional stack:
 * one SQS queue (with a DLQ) per QUEUES entry and its consumer function, the archive and export buckets, one
 * Firehose stream per archive, the digest signing key, and the alarms.
 *
 * Why a nested stack: CloudFormation allows 500 resources per stack, and the regional stack already holds
 * ~490 (about seven per API route: function, role, policy, log group, permission, method, resource). This
 * bounded context adds ~70 more; nested, it costs the parent one. References across the boundary (queue
 * URLs in the parent's functions, the table and data key in the consumers) become nested-stack parameters
 * and outputs, which CDK wires itself.
 */
export class Ingestion extends NestedStack {
  readonly queues: ReadonlyMap<QueueId, IngestQueue>;
  readonly buckets: ArchiveBuckets;
  readonly streams: Readonly<Record<'audit' | 'billing', ArchiveStream>>;
  readonly digestKey: DigestKey;
  readonly alarms: cloudwatch.Alarm[] = [];
  private readonly dataKey: kms.Key;
  /** Roles that already have the data key through SQS (one statement per role, whatever the number of queues). */
  private readonly sqsKeyGrantees = new WeakSet<iam.IRole>();

  constructor(scope: Construct, id: string, props: IngestionProps) {
    super(scope, id, { description: `SaaS control plane ingestion, ${props.region} (${props.stage}): queues, consumers, archives, exports (issue #6)` });
    this.dataKey = props.dataKey;

    this.queues = new Map(
      QUEUES.map((def) => {
        const dlq = new sqs.Queue(this, `${def.consumerId}Dlq`, {
          encryption: sqs.QueueEncryption.KMS,
          encryptionMasterKey: props.dataKey,
          enforceSSL: true,
          retentionPeriod: Duration.days(DLQ_RETENTION_DAYS),
        });
        const queue = new sqs.Queue(this, `${def.consumerId}Queue`, {
          encryption: sqs.QueueEncryption.KMS,
          encryptionMasterKey: props.dataKey,
          enforceSSL: true,
          visibilityTimeout: Duration.seconds(VISIBILITY_TIMEOUT_FACTOR * def.consumerTimeoutSeconds),
          deadLetterQueue: { queue: dlq, maxReceiveCount: def.maxReceiveCount },
        });
        this.alarms.push(
          new cloudwatch.Alarm(this, `${def.consumerId}DlqDepth`, {
            alarmDescription: `${def.id} queue: messages in the dead-letter queue (poisoned after ${def.maxReceiveCount} receives); inspect, fix and redrive`,
            metric: dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
            threshold: 1,
            comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluationPeriods: 1,
            treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          }),
          new cloudwatch.Alarm(this, `${def.consumerId}OldestMessage`, {
            alarmDescription: `${def.id} queue: the oldest message waits longer than ${oldestMessageAlarmSeconds(def)} s (consumer stuck or throttled)`,
            metric: queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(5), statistic: 'Maximum' }),
            threshold: oldestMessageAlarmSeconds(def),
            comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluationPeriods: 1,
            treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          }),
        );
        return [def.id, { def, queue, dlq }] as const;
      }),
    );

    this.buckets = new ArchiveBuckets(this, 'Buckets', { dataKey: props.dataKey, protectData: props.protectData });
    this.streams = {
      audit: new ArchiveStream(this, 'AuditStream', {
        kindPrefix: ARCHIVE_LAYOUT.auditPrefix,
        bucket: this.buckets.auditArchive,
        dataKey: props.dataKey,
        retainLogs: props.protectData,
      }),
      billing: new ArchiveStream(this, 'BillingStream', {
        kindPrefix: ARCHIVE_LAYOUT.billingPrefix,
        bucket: this.buckets.billingArchive,
        dataKey: props.dataKey,
        retainLogs: props.protectData,
      }),
    };
    this.alarms.push(this.streams.audit.freshnessAlarm('FreshnessAlarm'), this.streams.billing.freshnessAlarm('FreshnessAlarm'));
    this.digestKey = new DigestKey(this, 'DigestKey', { stage: props.stage, region: props.region });
  }

  queue(id: QueueId): IngestQueue {
    const q = this.queues.get(id);
    if (!q) throw new Error(`no queue ${id} in QUEUES`);
    return q;
  }

  /**
   * sqs:SendMessage (SendMessageBatch is authorized by the same action) on one queue, and the data key only
   * as SQS uses it for a producer (GenerateDataKey, Decrypt) and only through SQS: a function that may not
   * read the table cannot use the key for anything else. Sets the queue's URL variable (QueueDef.urlEnv).
   */
  grantSend(fn: RouteFunction, id: QueueId): void {
    const { def, queue } = this.queue(id);
    fn.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: `Send${pascal(id)}Queue`, actions: ['sqs:SendMessage'], resources: [queue.queueArn] }),
    );
    if (!this.sqsKeyGrantees.has(fn.role)) {
      this.sqsKeyGrantees.add(fn.role);
      fn.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'DataKeyViaSqs',
          actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
          resources: [this.dataKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `sqs.${Stack.of(this).region}.amazonaws.com` } },
        }),
      );
    }
    fn.fn.addEnvironment(def.urlEnv, queue.queueUrl);
  }

  /**
   * The consumer of the queue `def`: a RouteFunction like the jobs' (same module as local mode's poller),
   * in this stack, with timeout consumerTimeoutSeconds, an SQS event source with partial batch responses,
   * for archiving queues PutRecordBatch on the Firehose stream (and its name), and an alarm on its errors.
   */
  addConsumer(def: QueueDef, props: Omit<RouteFunctionProps, 'route'>): RouteFunction {
    const fn = new RouteFunction(this, def.consumerId, { ...props, route: consumerRoute(def) });
    this.acknowledgeParentTableIndexes(fn, props.table);
    const { queue } = this.queue(def.id);
    // RouteFunction fixes a 10 s timeout for API routes; a consumer runs for consumerTimeoutSeconds. The
    // visibility timeout (6×) is derived from the same value, so the two cannot disagree.
    (fn.fn.node.defaultChild as lambda.CfnFunction).timeout = def.consumerTimeoutSeconds;
    fn.fn.addEventSource(
      new SqsEventSource(queue, {
        batchSize: def.batchSize,
        reportBatchItemFailures: true,
        ...(def.archive ? { maxBatchingWindow: Duration.seconds(ARCHIVE_CONSUMER_BATCHING_WINDOW_SECONDS) } : {}),
      }),
    );
    if (def.archive) {
      const stream = this.streams[def.archive];
      stream.grantPutRecordBatch(fn.role);
      fn.fn.addEnvironment(def.archive === 'audit' ? INGEST_ENV.AUDIT_STREAM_NAME : INGEST_ENV.BILLING_STREAM_NAME, stream.streamName);
    }
    this.alarms.push(
      new cloudwatch.Alarm(this, `${def.consumerId}Errors`, {
        alarmDescription: `${def.consumerId}: the consumer of the ${def.id} queue failed (Lambda Errors ≥ 1 in 5 minutes)`,
        metric: fn.fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );
    return fn;
  }

  /**
   * RouteFunction acknowledges the table's index wildcard by the table's logical id, as it reads in the
   * table's own stack. Here the table ARN arrives as the nested-stack parameter CDK creates for it
   * (`reference-to-<table's unique id>Arn`), so the same finding reads `<referenceto…Arn>/index/*`.
   */
  private acknowledgeParentTableIndexes(fn: RouteFunction, table: dynamodb.ITableV2): void {
    const tableResource = table.node.defaultChild as CfnElement;
    if (Stack.of(tableResource) === this) return;
    const parameterId = `referenceto${Names.nodeUniqueId(tableResource.node)}Arn`.replace(/[^A-Za-z0-9]/g, '');
    Validations.of(fn.role.node.findChild('DefaultPolicy')).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${parameterId}>/index/*]`,
      reason:
        'Queries on the global secondary indexes of the control plane table (passed in from the regional stack as a parameter); the wildcard only spans the indexes of that one table.',
    });
  }

  /** Export bucket write access and EXPORT_BUCKET (the export consumer). */
  grantExportWrite(id: string, fn: RouteFunction): void {
    this.buckets.grantExportWrite({ id, role: fn.role });
    fn.fn.addEnvironment(INGEST_ENV.EXPORT_BUCKET, this.buckets.exports.bucketName);
  }

  /** Export bucket GetObject (for presigned URLs) and EXPORT_BUCKET (the export status route). */
  grantExportRead(id: string, fn: RouteFunction): void {
    this.buckets.grantExportRead({ id, role: fn.role });
    fn.fn.addEnvironment(INGEST_ENV.EXPORT_BUCKET, this.buckets.exports.bucketName);
  }

  /** Tenant partitions of both archives: list and delete, and both bucket names (the tenant purge). */
  grantArchivePurge(id: string, fn: RouteFunction): void {
    this.buckets.grantArchivePurge({ id, role: fn.role });
    fn.fn.addEnvironment(INGEST_ENV.AUDIT_ARCHIVE_BUCKET, this.buckets.auditArchive.bucketName);
    fn.fn.addEnvironment(INGEST_ENV.BILLING_ARCHIVE_BUCKET, this.buckets.billingArchive.bucketName);
  }

  /** kms:Sign on the digest key and DIGEST_KMS_KEY_ID (the digest job). */
  grantDigestSign(fn: RouteFunction): void {
    this.digestKey.grantSign(fn.role);
    fn.fn.addEnvironment(INGEST_ENV.DIGEST_KMS_KEY_ID, this.digestKey.key.keyArn);
  }

  /** kms:GetPublicKey on the digest key and DIGEST_KMS_KEY_ID (the digest list publishes the public key). */
  grantDigestPublicKey(fn: RouteFunction): void {
    this.digestKey.grantPublicKey(fn.role);
    fn.fn.addEnvironment(INGEST_ENV.DIGEST_KMS_KEY_ID, this.digestKey.key.keyArn);
  }
}

function pascal(id: string): string {
  return id.charAt(0).toUpperCase() + id.slice(1);
}
