/**
 * Issue #6 infrastructure: ingestion queues and consumers, archive and export buckets, Firehose streams,
 * the digest key, grants and alarms. They live in the nested stack `Ingestion` of each regional stack; the
 * grants of the regional stack's functions are checked in both templates. Reads templates only, so
 * bundling is skipped (one synth for the file).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Stack, type CfnElement } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ARCHIVE_LAYOUT, HOME_REGION_IDS, INGEST_ENV, RETENTION, type HomeRegion } from '../../shared/config/constants';
import { FUNCTION_ROUTES, JOBS, QUEUES, ROUTES, type QueueId } from '../../shared/config/routes';
import { ARCHIVE_BUFFER, PARTITION_QUERY, partitionedPrefix } from '../../lib/constructs/archive-stream';
import { ACCESS_LOG_DAYS } from '../../lib/constructs/archive-buckets';
import { DLQ_RETENTION_DAYS, oldestMessageAlarmSeconds } from '../../lib/constructs/ingestion';
import type { RouteFunction } from '../../lib/constructs/route-function';
import { INGEST_GRANTS, type RegionalStack } from '../../lib/regional-stack';
import { assertNoDependencyCycle, formatFindings, functionEnvironments, nagFindings, SKIP_BUNDLING, synthesize, type SynthesizedApp } from './helpers';

type Resource = { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string; DependsOn?: string[] };
type Resources = Record<string, Resource>;
interface Statement {
  readonly sid?: string;
  readonly actions: string[];
  readonly resources: unknown[];
  readonly conditions?: unknown;
}
/** A statement and the stack whose template holds it (references resolve differently on each side). */
interface PlacedStatement extends Statement {
  readonly stack: Stack;
}

let synth: SynthesizedApp;
/** The nested Ingestion templates, by region. */
const nestedTemplates = new Map<HomeRegion, Template>();

beforeAll(() => {
  synth = synthesize(SKIP_BUNDLING); // stage dev (cdk.json)
  for (const region of HOME_REGION_IDS) {
    const file = path.join(synth.assembly.directory, synth.stacks[region].ingestion.templateFile);
    nestedTemplates.set(region, Template.fromJSON(JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>));
  }
});

const json = (v: unknown): string => JSON.stringify(v);
const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

/** `token` as the template of `stack` spells it (a local Ref/GetAtt, a nested-stack parameter or output), or undefined when `stack` does not use it. */
function refIn(stack: Stack, token: unknown): unknown {
  try {
    return stack.resolve(token);
  } catch {
    return undefined; // a cross-stack reference this stack never made
  }
}

/** Does the statement name `token` (alone or inside a Fn::Join) among its resources? */
function names(statement: PlacedStatement, token: unknown): boolean {
  const ref = refIn(statement.stack, token);
  return ref !== undefined && json(statement.resources).includes(json(ref));
}

function strip({ stack: _stack, ...statement }: PlacedStatement): Statement {
  return statement;
}

describe.each(HOME_REGION_IDS)('Ingestion infrastructure (issue #6), %s', (region: HomeRegion) => {
  const stack = (): RegionalStack => synth.stacks[region];
  const ingestion = () => stack().ingestion;
  const parentTemplate = (): Template => synth.templates[region];
  const nestedTemplate = (): Template => nestedTemplates.get(region)!;
  const templateOf = (s: Stack): Template => (s === ingestion() ? nestedTemplate() : parentTemplate());
  const resources = (): Resources => nestedTemplate().toJSON().Resources as Resources;
  /** Logical id of an element in its own stack's template. */
  const idOf = (element: unknown): string => Stack.of(element as CfnElement).getLogicalId(element as CfnElement);

  const allFunctions = (): Map<string, RouteFunction> => new Map([...stack().functions, ...stack().jobs, ...stack().consumers]);
  const fnById = (id: string): RouteFunction => {
    const fn = allFunctions().get(id);
    if (!fn) throw new Error(`no function ${id}`);
    return fn;
  };
  const fnId = (id: string): string => idOf(fnById(id).fn.node.defaultChild);
  const envOf = (id: string): Record<string, unknown> => functionEnvironments(templateOf(Stack.of(fnById(id).fn)))[fnId(id)] ?? {};

  /** Every statement of every IAM policy, in either template, attached to the role. */
  const roleStatements = (role: iam.IRole): PlacedStatement[] => {
    const statements: PlacedStatement[] = [];
    for (const s of [stack(), ingestion()] as Stack[]) {
      const roleRef = refIn(s, role.roleName);
      if (roleRef === undefined) continue;
      for (const r of Object.values(templateOf(s).toJSON().Resources as Resources)) {
        if (r.Type !== 'AWS::IAM::Policy') continue;
        if (!((r.Properties?.Roles ?? []) as unknown[]).some((ref) => json(ref) === json(roleRef))) continue;
        const doc = r.Properties?.PolicyDocument as { Statement: { Sid?: string; Action: string | string[]; Resource: unknown; Effect: string; Condition?: unknown }[] };
        for (const st of doc.Statement) {
          expect(st.Effect).toBe('Allow');
          statements.push({
            stack: s,
            ...(st.Sid !== undefined ? { sid: st.Sid } : {}),
            actions: ([] as string[]).concat(st.Action),
            resources: ([] as unknown[]).concat(st.Resource),
            ...(st.Condition !== undefined ? { conditions: st.Condition } : {}),
          });
        }
      }
    }
    const roleResource = templateOf(Stack.of(role)).toJSON().Resources[idOf(role.node.defaultChild)] as Resource | undefined;
    expect(roleResource?.Properties?.ManagedPolicyArns ?? []).toEqual([]);
    expect(roleResource?.Properties?.Policies ?? []).toEqual([]);
    return statements;
  };
  const fnStatements = (id: string): PlacedStatement[] => roleStatements(fnById(id).role);
  /** The statements of function `id` that name `token`. */
  const on = (id: string, token: unknown): PlacedStatement[] => fnStatements(id).filter((s) => names(s, token));

  const queueOf = (id: QueueId) => ingestion().queue(id);
  const queueId = (id: QueueId): string => idOf(queueOf(id).queue.node.defaultChild);
  const dlqId = (id: QueueId): string => idOf(queueOf(id).dlq.node.defaultChild);
  const bucket = (name: 'auditArchive' | 'billingArchive' | 'exports' | 'accessLogs') => ingestion().buckets[name];
  const bucketId = (name: 'auditArchive' | 'billingArchive' | 'exports' | 'accessLogs'): string => idOf(bucket(name).node.defaultChild);
  const streamId = (kind: 'audit' | 'billing'): string => idOf(ingestion().streams[kind].stream);
  const digestKey = () => ingestion().digestKey.key;
  /** The data key as the nested template spells it (a parameter). */
  const dataKeyArn = (): unknown => refIn(ingestion(), stack().dataKey.key.keyArn);

  it('CloudFormation limits: ingestion is one nested stack; the regional stack stays under 500 resources', () => {
    const parent = parentTemplate().toJSON().Resources as Resources;
    expect(Object.values(parent).filter((r) => r.Type === 'AWS::CloudFormation::Stack')).toHaveLength(1);
    expect(Object.keys(parent).length).toBeLessThan(500);
    expect(Object.keys(resources()).length).toBeLessThan(500);
    // The regional stack's functions are the routes and jobs; the consumers live in the nested stack.
    parentTemplate().resourceCountIs('AWS::Lambda::Function', FUNCTION_ROUTES.length + JOBS.length);
    for (const def of QUEUES) expect(Stack.of(fnById(def.consumerId).fn), def.consumerId).toBe(ingestion());
    expect(() => assertNoDependencyCycle(parentTemplate())).not.toThrow();
    expect(() => assertNoDependencyCycle(nestedTemplate())).not.toThrow();
  });

  describe('queues', () => {
    it('FR-BILL-001, FR-LOG-001: one queue per QUEUES entry, each with its own DLQ after maxReceiveCount receives', () => {
      nestedTemplate().resourceCountIs('AWS::SQS::Queue', 2 * QUEUES.length);
      for (const def of QUEUES) {
        expect(resources()[queueId(def.id)]?.Properties, def.id).toMatchObject({
          RedrivePolicy: { deadLetterTargetArn: arnOf(dlqId(def.id)), maxReceiveCount: def.maxReceiveCount },
          VisibilityTimeout: 6 * def.consumerTimeoutSeconds,
        });
        expect(resources()[dlqId(def.id)]?.Properties, def.id).toMatchObject({ MessageRetentionPeriod: DLQ_RETENTION_DAYS * 24 * 3600 });
        expect(resources()[dlqId(def.id)]?.Properties?.RedrivePolicy).toBeUndefined();
      }
      expect(new Set(QUEUES.map((d) => dlqId(d.id))).size).toBe(QUEUES.length);
    });

    it('NFR-SEC-002: every queue and DLQ is encrypted with the customer-managed data key', () => {
      expect(dataKeyArn()).toBeDefined();
      for (const q of Object.values(nestedTemplate().findResources('AWS::SQS::Queue'))) {
        expect(q.Properties).toMatchObject({ KmsMasterKeyId: dataKeyArn() });
      }
      // The parameter is the regional stack's data key.
      const nested = Object.values(parentTemplate().findResources('AWS::CloudFormation::Stack'))[0];
      const param = (dataKeyArn() as { Ref: string }).Ref;
      expect(nested?.Properties.Parameters[param]).toEqual(arnOf(idOf(stack().dataKey.key.node.defaultChild)));
    });

    it('CON-SEC-003: every queue and DLQ denies requests without TLS', () => {
      const policies = Object.values(nestedTemplate().findResources('AWS::SQS::QueuePolicy'));
      for (const def of QUEUES) {
        for (const id of [queueId(def.id), dlqId(def.id)]) {
          const policy = policies.find((p) => json(p.Properties.Queues) === json([{ Ref: id }]));
          expect(policy, id).toBeDefined();
          expect(policy?.Properties.PolicyDocument.Statement).toContainEqual(
            expect.objectContaining({
              Effect: 'Deny',
              Action: 'sqs:*',
              Principal: { AWS: '*' },
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              Resource: arnOf(id),
            }),
          );
        }
      }
    });
  });

  describe('consumers', () => {
    it('FR-BILL-001, FR-LOG-001: each queue has a Lambda consumer with partial batch responses and its batch size', () => {
      nestedTemplate().resourceCountIs('AWS::Lambda::EventSourceMapping', QUEUES.length);
      for (const def of QUEUES) {
        nestedTemplate().hasResourceProperties('AWS::Lambda::EventSourceMapping', {
          FunctionName: { Ref: fnId(def.consumerId) },
          EventSourceArn: arnOf(queueId(def.id)),
          BatchSize: def.batchSize,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
          MaximumBatchingWindowInSeconds: def.archive ? Match.anyValue() : Match.absent(),
        });
      }
      for (const m of Object.values(nestedTemplate().findResources('AWS::Lambda::EventSourceMapping'))) {
        if (m.Properties.MaximumBatchingWindowInSeconds !== undefined) expect(m.Properties.MaximumBatchingWindowInSeconds).toBeLessThanOrEqual(5);
      }
    });

    it('consumers run their QUEUES entry with timeout consumerTimeoutSeconds, the table, ISSUER and the shared environment', () => {
      expect([...stack().consumers.keys()].sort()).toEqual(QUEUES.map((d) => d.consumerId).sort());
      for (const def of QUEUES) {
        const fn = resources()[fnId(def.consumerId)];
        expect(fn?.Properties?.Timeout, def.id).toBe(def.consumerTimeoutSeconds);
        expect(fn?.Properties?.Description).toBe(def.description);
        const env = envOf(def.consumerId);
        expect(env['TABLE_NAME']).toEqual(refIn(ingestion(), stack().dataTable.table.tableName));
        expect(env['ISSUER']).toEqual(refIn(ingestion(), stack().issuer));
        expect(env['STAGE']).toBe('dev');
        expect(env['HOME_REGION']).toBe(region);
      }
    });

    it('consumers may receive and delete from their own queue only; no other function may', () => {
      for (const def of QUEUES) {
        const receiving = fnStatements(def.consumerId).filter((s) => s.actions.includes('sqs:ReceiveMessage'));
        expect(receiving.flatMap((s) => s.resources)).toEqual([arnOf(queueId(def.id))]);
        expect(receiving[0]?.actions).toEqual(expect.arrayContaining(['sqs:DeleteMessage', 'sqs:ChangeMessageVisibility']));
      }
      for (const id of allFunctions().keys()) {
        if (stack().consumers.has(id)) continue;
        const actions = fnStatements(id).flatMap((s) => s.actions);
        expect(actions.filter((a) => a === 'sqs:ReceiveMessage' || a === 'sqs:DeleteMessage'), id).toEqual([]);
      }
    });
  });

  describe('producers', () => {
    it('FR-LOG-003: every function (routes, jobs, consumers) gets AUDIT_QUEUE_URL and sqs:SendMessage on the audit queue', () => {
      expect(allFunctions().size).toBe(FUNCTION_ROUTES.length + JOBS.length + QUEUES.length);
      const audit = queueOf('audit').queue;
      for (const [id, fn] of allFunctions()) {
        expect(envOf(id)[INGEST_ENV.AUDIT_QUEUE_URL], id).toEqual(refIn(Stack.of(fn.fn), audit.queueUrl));
        expect(on(id, audit.queueArn).filter((s) => s.actions.includes('sqs:SendMessage')).map(strip), id).toEqual([{ sid: 'SendAuditQueue', actions: ['sqs:SendMessage'], resources: [refIn(Stack.of(fn.role), audit.queueArn)] }]);
      }
    });

    it('NFR-SEC-005: functions without table access may use the data key only through SQS', () => {
      for (const route of FUNCTION_ROUTES.filter((r) => r.table === 'none')) {
        const kms = fnStatements(route.id).filter((s) => s.actions.some((a) => a.startsWith('kms:')));
        expect(kms.map(strip), route.id).toEqual([
          {
            sid: 'DataKeyViaSqs',
            actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
            resources: [arnOf(idOf(stack().dataKey.key.node.defaultChild))],
            conditions: { StringEquals: { 'kms:ViaService': `sqs.${region}.amazonaws.com` } },
          },
        ]);
      }
    });

    it('FR-BILL-001, FR-LOG-002: routes with sendsTo get the queue URL and SendMessage; nobody else (TenantsGet cannot send billing events)', () => {
      expect(ROUTES.find((r) => r.id === 'BillingIngest')?.sendsTo).toEqual(['billing']);
      expect(ROUTES.find((r) => r.id === 'AuditExportCreate')?.sendsTo).toEqual(['export']);
      for (const def of QUEUES.filter((d) => d.id !== 'audit')) {
        const { queue } = queueOf(def.id);
        const senders = FUNCTION_ROUTES.filter((r) => r.sendsTo?.includes(def.id)).map((r) => r.id);
        expect(senders.length, def.id).toBeGreaterThan(0);
        for (const [id, fn] of allFunctions()) {
          const sends = on(id, queue.queueArn).filter((s) => s.actions.includes('sqs:SendMessage'));
          const env = envOf(id)[def.urlEnv];
          if (senders.includes(id)) {
            expect(sends, id).toHaveLength(1);
            expect(env, id).toEqual(refIn(Stack.of(fn.fn), queue.queueUrl));
          } else {
            expect(sends, `${id} must not send to ${def.id}`).toEqual([]);
            expect(env, id).toBeUndefined();
          }
        }
      }
      // The control: TenantsGet has no permission at all on the billing queue (nor its URL).
      expect(on('TenantsGet', queueOf('billing').queue.queueArn)).toEqual([]);
      expect(envOf('TenantsGet')[INGEST_ENV.BILLING_QUEUE_URL]).toBeUndefined();
      expect(on('BillingIngest', queueOf('billing').queue.queueArn)).toHaveLength(1);
    });
  });

  describe('buckets', () => {
    const kmsBuckets = ['auditArchive', 'billingArchive', 'exports'] as const;

    it('CON-SEC-003: public access blocked and TLS only on every bucket', () => {
      const buckets = nestedTemplate().findResources('AWS::S3::Bucket');
      expect(Object.keys(buckets)).toHaveLength(4);
      parentTemplate().resourceCountIs('AWS::S3::Bucket', 0);
      const policies = Object.values(nestedTemplate().findResources('AWS::S3::BucketPolicy'));
      for (const [id, b] of Object.entries(buckets)) {
        expect(b.Properties.PublicAccessBlockConfiguration, id).toEqual({
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        });
        const policy = policies.find((p) => json(p.Properties.Bucket) === json({ Ref: id }));
        expect(policy?.Properties.PolicyDocument.Statement, id).toContainEqual(
          expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        );
      }
    });

    it('NFR-SEC-002: archive and export buckets: versioned, SSE-KMS with the data key and a Bucket Key, access-logged', () => {
      for (const name of kmsBuckets) {
        expect(resources()[bucketId(name)]?.Properties, name).toMatchObject({
          VersioningConfiguration: { Status: 'Enabled' },
          BucketEncryption: {
            ServerSideEncryptionConfiguration: [{ BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: dataKeyArn() } }],
          },
          LoggingConfiguration: { DestinationBucketName: { Ref: bucketId('accessLogs') }, LogFilePrefix: expect.any(String) },
        });
      }
      // The access-log bucket: SSE-S3 (the only encryption log delivery supports), delivery by bucket policy, no ACLs.
      expect(resources()[bucketId('accessLogs')]?.Properties).toMatchObject({
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LifecycleConfiguration: { Rules: [expect.objectContaining({ ExpirationInDays: ACCESS_LOG_DAYS, Status: 'Enabled' })] },
      });
      expect(resources()[bucketId('accessLogs')]?.Properties?.AccessControl).toBeUndefined();
      const logPolicy = Object.values(nestedTemplate().findResources('AWS::S3::BucketPolicy')).find(
        (p) => json(p.Properties.Bucket) === json({ Ref: bucketId('accessLogs') }),
      );
      expect(logPolicy?.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Allow', Action: 's3:PutObject', Principal: { Service: 'logging.s3.amazonaws.com' } }),
      );
    });

    it('FR-OPS-003, CON-DATA-002/003: lifecycle expirations equal RETENTION (audit 7 y, billing 5 y, exports days)', () => {
      const expected = { auditArchive: RETENTION.auditDays, billingArchive: RETENTION.billingDays, exports: RETENTION.exportDays };
      expect(RETENTION.auditDays).toBe(7 * 365 + 2);
      expect(RETENTION.billingDays).toBe(5 * 365 + 2);
      for (const name of kmsBuckets) {
        const rules = (resources()[bucketId(name)]?.Properties?.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
        expect(rules, name).toContainEqual(
          expect.objectContaining({
            Status: 'Enabled',
            ExpirationInDays: expected[name],
            NoncurrentVersionExpiration: { NoncurrentDays: 1 },
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          }),
        );
        // No rule expires current objects at any other age.
        for (const r of rules) if (r['ExpirationInDays'] !== undefined) expect(r['ExpirationInDays'], name).toBe(expected[name]);
      }
    });

    it('issue #6 tamper evidence: S3 Object Lock in COMPLIANCE mode for RETENTION.auditDays on the audit archive only', () => {
      expect(resources()[bucketId('auditArchive')]?.Properties).toMatchObject({
        ObjectLockEnabled: true,
        ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: RETENTION.auditDays } } },
      });
      for (const name of ['billingArchive', 'exports', 'accessLogs'] as const) {
        expect(resources()[bucketId(name)]?.Properties?.ObjectLockEnabled, name).toBeUndefined();
      }
    });

    it('NFR-OPS-004 (dev): the audit archive is always retained; the other buckets are destroyed with their objects', () => {
      expect(resources()[bucketId('auditArchive')]?.DeletionPolicy).toBe('Retain');
      const autoDeleted = Object.values(nestedTemplate().findResources('Custom::S3AutoDeleteObjects')).map((r) => json(r.Properties.BucketName));
      for (const name of ['billingArchive', 'exports', 'accessLogs'] as const) {
        expect(resources()[bucketId(name)]?.DeletionPolicy, name).toBe('Delete');
        expect(autoDeleted, name).toContain(json({ Ref: bucketId(name) }));
      }
      expect(autoDeleted).toHaveLength(3);
      expect(autoDeleted).not.toContain(json({ Ref: bucketId('auditArchive') }));
    });

    it('outputs the three bucket names', () => {
      parentTemplate().hasOutput('AuditArchiveBucketName', { Value: refIn(stack(), bucket('auditArchive').bucketName) });
      parentTemplate().hasOutput('BillingArchiveBucketName', { Value: refIn(stack(), bucket('billingArchive').bucketName) });
      parentTemplate().hasOutput('ExportBucketName', { Value: refIn(stack(), bucket('exports').bucketName) });
      expect(json(refIn(stack(), bucket('exports').bucketName))).toContain('Outputs.');
    });
  });

  describe('Firehose', () => {
    const kinds = [
      { kind: 'audit', bucket: 'auditArchive', prefix: ARCHIVE_LAYOUT.auditPrefix, env: INGEST_ENV.AUDIT_STREAM_NAME, consumer: 'AuditConsumer' },
      { kind: 'billing', bucket: 'billingArchive', prefix: ARCHIVE_LAYOUT.billingPrefix, env: INGEST_ENV.BILLING_STREAM_NAME, consumer: 'BillingConsumer' },
    ] as const;

    it('FR-BILL-001, FR-LOG-001: DirectPut streams into the archives, partitioned by tenant and date, encrypted with the data key', () => {
      nestedTemplate().resourceCountIs('AWS::KinesisFirehose::DeliveryStream', 2);
      expect(partitionedPrefix('audit/')).toBe('audit/tenant=!{partitionKeyFromQuery:tenant}/date=!{partitionKeyFromQuery:date}/');
      expect(PARTITION_QUERY).toBe('{tenant: .partitionTenant, date: .partitionDate}');
      expect(ARCHIVE_BUFFER.sizeMiB).toBeGreaterThanOrEqual(64);
      for (const k of kinds) {
        expect(resources()[streamId(k.kind)]?.Properties, k.kind).toMatchObject({
          DeliveryStreamType: 'DirectPut',
          DeliveryStreamEncryptionConfigurationInput: { KeyType: 'CUSTOMER_MANAGED_CMK', KeyARN: dataKeyArn() },
          ExtendedS3DestinationConfiguration: {
            BucketARN: arnOf(bucketId(k.bucket)),
            Prefix: `${k.prefix}tenant=!{partitionKeyFromQuery:tenant}/date=!{partitionKeyFromQuery:date}/`,
            ErrorOutputPrefix: `errors/${k.prefix}!{firehose:error-output-type}/date=!{timestamp:yyyy-MM-dd}/`,
            BufferingHints: { IntervalInSeconds: 60, SizeInMBs: 64 },
            EncryptionConfiguration: { KMSEncryptionConfig: { AWSKMSKeyARN: dataKeyArn() } },
            DynamicPartitioningConfiguration: { Enabled: true },
            CloudWatchLoggingOptions: { Enabled: true, LogGroupName: { Ref: idOf(ingestion().streams[k.kind].logGroup.node.defaultChild) }, LogStreamName: expect.anything() },
            ProcessingConfiguration: {
              Enabled: true,
              Processors: [
                {
                  Type: 'MetadataExtraction',
                  Parameters: [
                    { ParameterName: 'MetadataExtractionQuery', ParameterValue: '{tenant: .partitionTenant, date: .partitionDate}' },
                    { ParameterName: 'JsonParsingEngine', ParameterValue: 'JQ-1.6' },
                  ],
                },
                // No AppendDelimiterToRecord: FirehoseArchive already ends every record with a newline (NDJSON).
              ],
            },
          },
        });
      }
    });

    it('NFR-SEC-005: each Firehose role may only write its own prefixes of its own bucket, and never delete', () => {
      for (const k of kinds) {
        const s = ingestion().streams[k.kind];
        const trust = resources()[idOf(s.role.node.defaultChild)]?.Properties?.AssumeRolePolicyDocument as { Statement: unknown[] };
        expect(trust.Statement).toEqual([
          expect.objectContaining({ Principal: { Service: 'firehose.amazonaws.com' }, Condition: { StringEquals: { 'sts:ExternalId': { Ref: 'AWS::AccountId' } } } }),
        ]);
        const statements = roleStatements(s.role);
        const actions = statements.flatMap((st) => st.actions);
        for (const forbidden of ['s3:DeleteObject', 's3:DeleteObjectVersion', 's3:PutObjectRetention', 's3:BypassGovernanceRetention', 's3:*', 'kms:*', '*']) {
          expect(actions, `${k.kind} stream role must not have ${forbidden}`).not.toContain(forbidden);
        }
        const objects = statements.find((st) => st.actions.includes('s3:PutObject'));
        expect(objects?.resources).toEqual([
          { 'Fn::Join': ['', [arnOf(bucketId(k.bucket)), `/${k.prefix}*`]] },
          { 'Fn::Join': ['', [arnOf(bucketId(k.bucket)), '/errors/*']] },
        ]);
        const other = k.kind === 'audit' ? 'billingArchive' : 'auditArchive';
        expect(json(statements.map(strip))).not.toContain(`"${bucketId(other)}"`);
        expect(json(statements.map(strip))).not.toContain(`"${bucketId('exports')}"`);
        const kms = statements.filter((st) => st.actions.some((a) => a.startsWith('kms:')));
        expect(kms.map(strip)).toEqual([
          expect.objectContaining({
            actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
            resources: [dataKeyArn()],
            conditions: expect.objectContaining({ StringEquals: { 'kms:ViaService': `s3.${region}.amazonaws.com` } }),
          }),
        ]);
        // The stream waits for its role's policy.
        expect(resources()[streamId(k.kind)]?.DependsOn).toContain(idOf(s.role.node.findChild('DefaultPolicy').node.defaultChild));
      }
    });

    it('FR-BILL-001, FR-LOG-001: each archive consumer may PutRecordBatch on its stream only, and gets the stream name', () => {
      for (const k of kinds) {
        const stream = ingestion().streams[k.kind].stream;
        for (const id of allFunctions().keys()) {
          const firehose = fnStatements(id).filter((s) => s.actions.some((a) => a.startsWith('firehose:')));
          if (id === k.consumer) {
            expect(firehose.map(strip)).toEqual([{ actions: ['firehose:PutRecordBatch'], resources: [arnOf(streamId(k.kind))] }]);
            expect(envOf(id)[k.env]).toEqual({ Ref: streamId(k.kind) });
          } else {
            expect(firehose.filter((s) => names(s, stream.attrArn)), id).toEqual([]);
            expect(envOf(id)[k.env], id).toBeUndefined();
          }
        }
      }
    });
  });

  describe('exports, purge and digests', () => {
    /** Functions with any IAM statement naming `token`, and those with env var `name`. */
    const withAccessTo = (token: unknown): string[] => [...allFunctions().keys()].filter((id) => on(id, token).length > 0).sort();
    const withEnv = (name: string): string[] => [...allFunctions().keys()].filter((id) => envOf(id)[name] !== undefined).sort();

    it('FR-LOG-002: the export consumer writes (multipart) into the exports bucket; the export route may read, to presign', () => {
      expect(INGEST_GRANTS.exportWrite).toEqual(['AuditExporter']);
      expect(INGEST_GRANTS.exportRead).toEqual(['AuditExportGet']);
      const exportsArn = bucket('exports').bucketArn;
      const objects = { 'Fn::Join': ['', [arnOf(bucketId('exports')), '/*']] };
      const writer = on('AuditExporter', exportsArn);
      expect(writer.filter((s) => s.actions.some((a) => a.startsWith('s3:'))).map(strip)).toEqual([
        { sid: 'ExportObjectsWrite', actions: ['s3:PutObject', 's3:AbortMultipartUpload'], resources: [objects] },
      ]);
      const reader = on('AuditExportGet', exportsArn);
      expect(reader.filter((s) => s.actions.some((a) => a.startsWith('s3:'))).map(strip)).toEqual([
        { sid: 'ExportObjectsRead', actions: ['s3:GetObject'], resources: [objects] },
      ]);
      // The route lives in the regional stack; its bucket grant is a policy of the nested stack on its role.
      expect(reader.every((s) => s.stack === ingestion())).toBe(true);
      for (const [fn, kmsActions] of [
        ['AuditExporter', ['kms:GenerateDataKey', 'kms:Decrypt']],
        ['AuditExportGet', ['kms:Decrypt']],
      ] as const) {
        const viaS3 = fnStatements(fn).filter((s) => s.actions.some((a) => a.startsWith('kms:')) && (json(s.conditions) ?? '').includes('s3.'));
        expect(viaS3.map(strip), fn).toEqual([
          expect.objectContaining({
            actions: kmsActions,
            resources: [dataKeyArn()],
            conditions: {
              StringEquals: { 'kms:ViaService': `s3.${region}.amazonaws.com` },
              StringLike: { 'kms:EncryptionContext:aws:s3:arn': [arnOf(bucketId('exports')), objects] },
            },
          }),
        ]);
      }
      expect(withAccessTo(exportsArn)).toEqual(['AuditExportGet', 'AuditExporter']);
      expect(withEnv(INGEST_ENV.EXPORT_BUCKET)).toEqual(['AuditExportGet', 'AuditExporter']);
      expect(envOf('AuditExporter')[INGEST_ENV.EXPORT_BUCKET]).toEqual({ Ref: bucketId('exports') });
      expect(envOf('AuditExportGet')[INGEST_ENV.EXPORT_BUCKET]).toEqual(refIn(stack(), bucket('exports').bucketName));
    });

    it('FR-OPS-002: only the tenant purge may list and delete, and only the tenant partitions of the two archives', () => {
      expect(INGEST_GRANTS.archivePurge).toEqual(['PurgeTenants']);
      for (const [name, prefix] of [
        ['auditArchive', ARCHIVE_LAYOUT.auditPrefix],
        ['billingArchive', ARCHIVE_LAYOUT.billingPrefix],
      ] as const) {
        const id = bucketId(name);
        expect(on('PurgeTenants', bucket(name).bucketArn).map(({ stack: _s, sid: _sid, ...s }) => s)).toEqual([
          { actions: ['s3:ListBucket'], resources: [arnOf(id)], conditions: { StringLike: { 's3:prefix': [`${prefix}tenant=*`] } } },
          { actions: ['s3:DeleteObject'], resources: [{ 'Fn::Join': ['', [arnOf(id), `/${prefix}tenant=*`]] }] },
        ]);
        // No function but the purge has any permission on an archive (the Firehose roles are not functions).
        expect(withAccessTo(bucket(name).bucketArn)).toEqual(['PurgeTenants']);
      }
      expect(withEnv(INGEST_ENV.AUDIT_ARCHIVE_BUCKET)).toEqual(['PurgeTenants']);
      expect(withEnv(INGEST_ENV.BILLING_ARCHIVE_BUCKET)).toEqual(['PurgeTenants']);
      expect(envOf('PurgeTenants')[INGEST_ENV.AUDIT_ARCHIVE_BUCKET]).toEqual(refIn(stack(), bucket('auditArchive').bucketName));
    });

    it('tamper evidence: an asymmetric P-256 signing key, retained; AuditDigest may Sign (ECDSA_SHA_256), AuditDigestsList may GetPublicKey', () => {
      const keyId = idOf(digestKey().node.defaultChild);
      expect(resources()[keyId]).toMatchObject({
        DeletionPolicy: 'Retain',
        Properties: { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' },
      });
      nestedTemplate().hasResourceProperties('AWS::KMS::Alias', { AliasName: `alias/control-plane/dev/${region}/audit-digest`, TargetKeyId: arnOf(keyId) });
      const keyArn = digestKey().keyArn;
      expect(on('AuditDigest', keyArn).map(strip)).toEqual([
        { actions: ['kms:Sign'], resources: [refIn(stack(), keyArn)], conditions: { StringEquals: { 'kms:SigningAlgorithm': 'ECDSA_SHA_256' } } },
      ]);
      expect(on('AuditDigestsList', keyArn).map(strip)).toEqual([{ actions: ['kms:GetPublicKey'], resources: [refIn(stack(), keyArn)] }]);
      expect(withAccessTo(keyArn)).toEqual(['AuditDigest', 'AuditDigestsList']);
      expect(withEnv(INGEST_ENV.DIGEST_KMS_KEY_ID)).toEqual(['AuditDigest', 'AuditDigestsList']);
      expect(envOf('AuditDigest')[INGEST_ENV.DIGEST_KMS_KEY_ID]).toEqual(refIn(stack(), keyArn));
      // No IAM entity other than those two roles' policies mentions the digest key.
      const mentioning = (t: Template, s: Stack) =>
        Object.values(t.toJSON().Resources as Resources).filter((r) => r.Type.startsWith('AWS::IAM::') && json(r.Properties).includes(json(refIn(s, keyArn))));
      expect(mentioning(parentTemplate(), stack())).toHaveLength(2);
      expect(mentioning(nestedTemplate(), ingestion())).toHaveLength(0);
    });
  });

  describe('alarms', () => {
    const alarms = () => Object.values(nestedTemplate().findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties as Record<string, unknown>);

    it('FR-BILL-001, FR-LOG-001: an alarm on every DLQ as soon as one message is in it', () => {
      for (const def of QUEUES) {
        expect(alarms(), def.id).toContainEqual(
          expect.objectContaining({
            Namespace: 'AWS/SQS',
            MetricName: 'ApproximateNumberOfMessagesVisible',
            Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId(def.id), 'QueueName'] } }],
            Threshold: 1,
            ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          }),
        );
      }
    });

    it('FR-BILL-001, FR-LOG-001: an alarm on every consumer error (5 minutes) and on old messages in every queue', () => {
      for (const def of QUEUES) {
        expect(alarms(), def.consumerId).toContainEqual(
          expect.objectContaining({
            Namespace: 'AWS/Lambda',
            MetricName: 'Errors',
            Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId(def.consumerId) } }],
            Statistic: 'Sum',
            Period: 300,
            Threshold: 1,
            ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          }),
        );
        expect(alarms(), def.id).toContainEqual(
          expect.objectContaining({
            Namespace: 'AWS/SQS',
            MetricName: 'ApproximateAgeOfOldestMessage',
            Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId(def.id), 'QueueName'] } }],
            Threshold: oldestMessageAlarmSeconds(def),
            ComparisonOperator: 'GreaterThanThreshold',
          }),
        );
        expect(oldestMessageAlarmSeconds(def)).toBeGreaterThanOrEqual(15 * 60);
      }
    });

    it('an alarm per Firehose stream on delivery freshness (failed S3 deliveries)', () => {
      for (const kind of ['audit', 'billing'] as const) {
        expect(alarms()).toContainEqual(
          expect.objectContaining({
            Namespace: 'AWS/Firehose',
            MetricName: 'DeliveryToS3.DataFreshness',
            Dimensions: [{ Name: 'DeliveryStreamName', Value: { Ref: streamId(kind) } }],
          }),
        );
      }
    });
  });

  describe('cdk-nag', () => {
    it('CON-DEV-001: AwsSolutions reports zero unacknowledged errors (regional and nested stack)', () => {
      const errors = nagFindings(stack(), 'error');
      expect(errors, formatFindings(errors)).toEqual([]);
    });

    it('CON-DEV-001: AwsSolutions reports zero unacknowledged warnings (regional and nested stack)', () => {
      const warnings = nagFindings(stack(), 'warning');
      expect(warnings, formatFindings(warnings)).toEqual([]);
    });

    it('every acknowledgement in the nested stack names an AwsSolutions rule and carries a written reason', () => {
      const acknowledged = ingestion()
        .node.findAll()
        .flatMap((c) => c.node.metadata.filter((e) => e.type === 'aws:cdk:acknowledged-rules').map((m) => ({ path: c.node.path, data: m.data as Record<string, string> })));
      expect(acknowledged.length).toBeGreaterThan(0);
      for (const { path: where, data } of acknowledged) {
        for (const [rule, reason] of Object.entries(data)) {
          expect(rule, where).toMatch(/^(Annotation::)?AwsSolutions-/);
          expect(reason.length, `${where} ${rule}`).toBeGreaterThan(40);
        }
      }
      const firehoseAcks = acknowledged
        .filter((a) => a.path.endsWith('AuditStream/Role/DefaultPolicy'))
        .flatMap((a) => Object.keys(a.data))
        .map((rule) => rule.replace(/^Annotation::/, ''));
      expect(firehoseAcks).toEqual([
        `AwsSolutions-IAM5[Resource::<${bucketId('auditArchive')}.Arn>/audit/*]`,
        `AwsSolutions-IAM5[Resource::<${bucketId('auditArchive')}.Arn>/errors/*]`,
      ]);
    });
  });
});
