import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { ArnFormat, CfnOutput, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { ENV, HOME_REGIONS, INGEST_ENV, type HomeRegion } from '../shared/config/constants';
import { FUNCTION_ROUTES, functionRouteOf, JOBS, QUEUES, ROUTES } from '../shared/config/routes';
import { customDomainFor, issuerFor, type DeploymentConfig } from './config';
import { ControlPlaneApi } from './constructs/api';
import { ApiDomain } from './constructs/api-domain';
import { DataKey } from './constructs/data-key';
import { DataTable } from './constructs/data-table';
import { Ingestion } from './constructs/ingestion';
import { RouteFunction } from './constructs/route-function';
import { TokenSigningKey, type TokenSigningKeyAction } from './constructs/token-signing-key';

/**
 * NFR-SEC-005, ADR-0005: the only functions that may use the token-signing wrap key, by route id.
 * OidcToken signs tokens (Decrypt) and creates the first key when there is none (Encrypt); KeysRotate
 * wraps a new key (Encrypt) and reads the current one (Decrypt). Both also write the PLATFORM#SIGNINGKEY
 * items, which their `readwrite` table access covers.
 */
export const SIGNING_KEY_GRANTS: Readonly<Record<string, readonly TokenSigningKeyAction[]>> = {
  OidcToken: ['kms:Encrypt', 'kms:Decrypt'],
  KeysRotate: ['kms:Encrypt', 'kms:Decrypt'],
};

/** FR-AUTH-004, FR-TENANT-001: the functions that send mail are the routes marked `sendsMail`. */
export const MAIL_SENDING_ROUTES: readonly string[] = FUNCTION_ROUTES.filter((r) => r.sendsMail).map((r) => r.id);

/**
 * Issue #6: who may touch the ingestion buckets and the digest key, by function id (route, job or
 * consumer). Every function may send to the audit queue; routes send to further queues by `sendsTo`.
 */
export const INGEST_GRANTS = {
  /** FR-LOG-002: the export consumer streams the CSV into the exports bucket (EXPORT_BUCKET). */
  exportWrite: ['AuditExporter'],
  /** FR-LOG-002: the export status route presigns GET URLs of finished exports (EXPORT_BUCKET). */
  exportRead: ['AuditExportGet'],
  /** FR-OPS-002: the tenant purge deletes the tenant's archive partitions (AUDIT_/BILLING_ARCHIVE_BUCKET). */
  archivePurge: ['PurgeTenants'],
  /** Tamper evidence: the digest job signs digests (kms:Sign, DIGEST_KMS_KEY_ID). */
  digestSign: ['AuditDigest'],
  /** The digest list publishes the public key (kms:GetPublicKey, DIGEST_KMS_KEY_ID). */
  digestPublicKey: ['AuditDigestsList'],
} as const satisfies Record<string, readonly string[]>;

export interface RegionalStackProps extends Omit<StackProps, 'env'> {
  readonly homeRegion: HomeRegion;
  readonly config: DeploymentConfig;
}

/**
 * Everything one home region needs (CON-DATA-001: a tenant's data lives in exactly one of these).
 * Nothing here is shared across regions.
 */
export class RegionalStack extends Stack {
  readonly dataKey: DataKey;
  readonly tokenSigningKey: TokenSigningKey;
  readonly dataTable: DataTable;
  readonly api: ControlPlaneApi;
  /** Keyed by the id of the route that owns the function (FUNCTION_ROUTES; see RouteDef.sharesFunctionOf). */
  readonly functions: ReadonlyMap<string, RouteFunction>;
  readonly jobs: ReadonlyMap<string, RouteFunction>;
  /** Issue #6: the queue consumers, by QueueDef.consumerId. */
  readonly consumers: ReadonlyMap<string, RouteFunction>;
  readonly ingestion: Ingestion;
  /** The OpenID issuer the functions get as ISSUER (a token when it is the execute-api URL). */
  readonly issuer: string;

  constructor(scope: Construct, id: string, props: RegionalStackProps) {
    const { homeRegion, config, ...stackProps } = props;
    super(scope, id, {
      description: `SaaS control plane, ${HOME_REGIONS[homeRegion].label} home region (${config.stage})`,
      terminationProtection: config.protectData,
      ...stackProps,
      // No lookups anywhere: synth works offline without credentials.
      env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: homeRegion },
    });
    Tags.of(this).add('service', 'control-plane');
    Tags.of(this).add('stage', config.stage);
    Tags.of(this).add('home-region', homeRegion);

    this.dataKey = new DataKey(this, 'DataKey', {
      stage: config.stage,
      region: homeRegion,
      retain: config.protectData,
    });
    this.dataTable = new DataTable(this, 'Data', {
      encryptionKey: this.dataKey.key,
      protect: config.protectData,
    });
    const table = this.dataTable.table;
    this.tokenSigningKey = new TokenSigningKey(this, 'TokenSigningKey', {
      stage: config.stage,
      region: homeRegion,
      retain: config.protectData,
    });

    // Issue #6: queues, archive and export buckets, Firehose streams, digest key. Before the functions: every
    // function gets the audit queue's URL (FR-LOG-003: the control plane's own records go through it).
    this.ingestion = new Ingestion(this, 'Ingestion', {
      stage: config.stage,
      region: homeRegion,
      dataKey: this.dataKey.key,
      protectData: config.protectData,
    });

    const environment: Record<string, string> = {
      [ENV.TABLE_NAME]: table.tableName,
      [ENV.OPERATOR_ISSUER]: config.operatorIssuer,
      [ENV.OPERATOR_AUDIENCE]: config.operatorAudience,
      [ENV.OPERATOR_GROUPS_CLAIM]: config.operatorGroupsClaim,
      [ENV.OPERATOR_GROUP]: config.operatorGroup,
      [ENV.DEVELOPER_GROUP]: config.developerGroup,
      [ENV.HOME_REGION]: homeRegion,
      [ENV.STAGE]: config.stage,
      [ENV.MAIL_SENDER]: config.mailSender,
      // Every function: the composition root (shared/composition.ts) picks the AWS adapters of the identity
      // context (KMS-wrapped signing keys, SES mailer) by this variable, and most handlers build that context
      // (JWKS, userinfo, apps, the TenantsCreate mailer, ...). The ARN is not a secret; the permission to
      // use the key is granted to SIGNING_KEY_GRANTS only.
      [ENV.SIGNING_KEY_KMS_KEY_ID]: this.tokenSigningKey.key.keyArn,
      // Every function: the composition root picks the AWS ingestion adapters by this variable.
      [INGEST_ENV.AUDIT_QUEUE_URL]: this.ingestion.queue('audit').queue.queueUrl,
    };

    const routeFunctions = FUNCTION_ROUTES.map((route) => ({
      route,
      construct: new RouteFunction(this, route.id, {
        route,
        table,
        tableKey: this.dataKey.key,
        environment,
        retainLogs: config.protectData,
      }),
    }));
    this.functions = new Map(routeFunctions.map(({ route, construct }) => [route.id, construct]));
    const functionFor = (routeId: string, purpose: string): RouteFunction => {
      const route = ROUTES.find((r) => r.id === routeId);
      const fn = route ? this.functions.get(functionRouteOf(route).id) : undefined;
      if (!fn) throw new Error(`${purpose}: route ${routeId} is not in ROUTES (renamed?)`);
      return fn;
    };

    for (const [routeId, actions] of Object.entries(SIGNING_KEY_GRANTS)) {
      this.tokenSigningKey.grantTokenSigning(functionFor(routeId, 'SIGNING_KEY_GRANTS').role, ...actions);
    }

    // SESv2 SendEmail is authorized by the `ses:SendEmail` action on the sending identity: the verified
    // domain of MAIL_SENDER in this region.
    const senderIdentityArn = this.formatArn({
      service: 'ses',
      resource: 'identity',
      resourceName: config.mailSenderDomain,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    for (const routeId of MAIL_SENDING_ROUTES) {
      functionFor(routeId, 'MAIL_SENDING_ROUTES').role.addToPrincipalPolicy(
        new iam.PolicyStatement({ sid: 'SendMailFromSenderDomain', actions: ['ses:SendEmail'], resources: [senderIdentityArn] }),
      );
    }

    // Scheduled jobs (FR-OPS-002 purge): the same module local mode runs on a timer.
    const jobFunctions = JOBS.map((job) => {
      const construct = new RouteFunction(this, job.id, {
        route: { id: job.id, method: 'POST', path: `/(${job.schedule})`, entry: job.entry, table: job.table, description: job.description },
        table,
        tableKey: this.dataKey.key,
        environment,
        retainLogs: config.protectData,
        ...(job.timeoutSeconds !== undefined ? { timeoutSeconds: job.timeoutSeconds } : {}),
      });
      new events.Rule(this, `${job.id}Schedule`, {
        description: job.description,
        schedule: events.Schedule.expression(job.schedule),
        targets: [new targets.LambdaFunction(construct.fn, { retryAttempts: 2 })],
      });
      return construct;
    });
    this.jobs = new Map(JOBS.map((job, i) => [job.id, jobFunctions[i]!]));

    // Issue #6: one consumer per queue, built like the jobs (same module in local mode's poller).
    const consumerFunctions = QUEUES.map((def) =>
      this.ingestion.addConsumer(def, { table, tableKey: this.dataKey.key, environment, retainLogs: config.protectData }),
    );
    this.consumers = new Map(QUEUES.map((def, i) => [def.consumerId, consumerFunctions[i]!]));

    const allFunctions = new Map<string, RouteFunction>([...this.functions, ...this.jobs, ...this.consumers]);
    if (allFunctions.size !== this.functions.size + this.jobs.size + this.consumers.size) {
      throw new Error('route, job and consumer ids must be distinct');
    }
    const anyFunction = (fnId: string, purpose: string): RouteFunction => {
      const fn = allFunctions.get(fnId);
      if (!fn) throw new Error(`${purpose}: ${fnId} is not a route, job or consumer (renamed?)`);
      return fn;
    };
    for (const fn of allFunctions.values()) this.ingestion.grantSend(fn, 'audit');
    for (const route of FUNCTION_ROUTES) {
      for (const queueId of route.sendsTo ?? []) {
        if (queueId !== 'audit') this.ingestion.grantSend(functionFor(route.id, 'sendsTo'), queueId);
      }
    }
    for (const id of INGEST_GRANTS.exportWrite) this.ingestion.grantExportWrite(id, anyFunction(id, 'INGEST_GRANTS.exportWrite'));
    for (const id of INGEST_GRANTS.exportRead) this.ingestion.grantExportRead(id, anyFunction(id, 'INGEST_GRANTS.exportRead'));
    for (const id of INGEST_GRANTS.archivePurge) this.ingestion.grantArchivePurge(id, anyFunction(id, 'INGEST_GRANTS.archivePurge'));
    for (const id of INGEST_GRANTS.digestSign) this.ingestion.grantDigestSign(anyFunction(id, 'INGEST_GRANTS.digestSign'));
    for (const id of INGEST_GRANTS.digestPublicKey) this.ingestion.grantDigestPublicKey(anyFunction(id, 'INGEST_GRANTS.digestPublicKey'));

    this.api = new ControlPlaneApi(this, 'Api', {
      stage: config.stage,
      retainLogs: config.protectData,
      routes: ROUTES.map((route) => ({ route, handler: functionFor(route.id, 'API method').fn })),
    });

    // The OpenID issuer: configured (issuerUrl, custom domain) or this API's execute-api stage URL. The
    // latter references only the RestApi resource (not its Deployment or Stage, which depend on the
    // methods and so on the functions) and the stage name as a literal: no dependency cycle.
    this.issuer =
      issuerFor(config, homeRegion) ??
      `https://${this.api.api.restApiId}.execute-api.${homeRegion}.${this.urlSuffix}/${config.stage}`;
    for (const { construct } of routeFunctions) construct.fn.addEnvironment(ENV.ISSUER, this.issuer);
    for (const construct of [...jobFunctions, ...consumerFunctions]) construct.fn.addEnvironment(ENV.ISSUER, this.issuer);

    const domain = customDomainFor(config, homeRegion);
    if (domain) {
      const apiDomain = new ApiDomain(this, 'ApiDomain', { api: this.api.api, ...domain });
      new CfnOutput(this, 'ApiDomainTarget', {
        description: `DNS target (CNAME/alias) for ${domain.domainName}`,
        value: apiDomain.domainName.domainNameAliasDomainName,
      });
    }

    new CfnOutput(this, 'ApiUrl', { value: this.api.api.url, description: 'Invoke URL of the regional API stage' });
    new CfnOutput(this, 'TableName', { value: table.tableName });
    new CfnOutput(this, 'Region', { value: homeRegion });
    const { buckets } = this.ingestion;
    new CfnOutput(this, 'AuditArchiveBucketName', { value: buckets.auditArchive.bucketName, description: 'Audit archive (Firehose, Object Lock COMPLIANCE)' });
    new CfnOutput(this, 'BillingArchiveBucketName', { value: buckets.billingArchive.bucketName, description: 'Billing event archive (Firehose)' });
    new CfnOutput(this, 'ExportBucketName', { value: buckets.exports.bucketName, description: 'CSV exports of audit logs' });
  }
}
