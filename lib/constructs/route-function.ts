import { Duration, RemovalPolicy, Stack, Validations, type Acknowledgment, type CfnElement } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type ICommandHooks } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { existsSync } from 'node:fs';
import { API_KEY_PARTITION_PREFIX, PLATFORM_PARTITIONS } from '../../shared/config/constants';
import type { RouteDef } from '../../shared/config/routes';
import { fromProjectRoot, LOCK_FILE, PROJECT_ROOT } from '../paths';

export interface RouteFunctionProps {
  readonly route: RouteDef;
  readonly table: dynamodb.ITableV2;
  readonly tableKey: kms.IKey;
  /** Environment shared by every handler (TABLE_NAME, operator IdP settings, ...). */
  readonly environment: Readonly<Record<string, string>>;
  /** RETAIN the log group (every stage except dev). */
  readonly retainLogs: boolean;
  /** API routes answer within API Gateway's limits (10 s); scheduled jobs may run longer. */
  readonly timeoutSeconds?: number;
}

const ARGON2_PACKAGES = ['@node-rs/argon2', '@node-rs/argon2-linux-x64-gnu'] as const;

/**
 * Copies the argon2 addon and its prebuilt linux-x64-gnu binary (Lambda's Amazon Linux is glibc) from
 * node_modules next to the bundle, offline. The binary package is installed by `npm ci` on linux-x64
 * machines (CI, this project's machines); elsewhere synth stops here with the fix.
 */
function nativeArgon2(): ICommandHooks {
  for (const pkg of ARGON2_PACKAGES) {
    if (!existsSync(fromProjectRoot(`node_modules/${pkg}/package.json`))) {
      throw new Error(`${pkg} is missing from node_modules: synthesize on linux-x64, or run \`npm install --no-save --os=linux --cpu=x64 --libc=glibc ${pkg}\` first`);
    }
  }
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (inputDir: string, outputDir: string) => [
      `mkdir -p "${outputDir}/node_modules/@node-rs"`,
      ...ARGON2_PACKAGES.map((pkg) => `cp -R "${inputDir}/node_modules/${pkg}" "${outputDir}/node_modules/@node-rs/"`),
    ],
  };
}

/** Health checks do almost nothing; everything else gets more memory (and with it more CPU). */
function memoryFor(route: RouteDef): number {
  return route.entry.startsWith('functions/health/') ? 256 : 512;
}

/**
 * One Lambda function for one route of ROUTES: bundled ESM for Node 22 on arm64 (x86_64 with the native
 * argon2 addon for `passwordHashing` routes), its own log group and its own role with exactly the table
 * access the route declares (NFR-SEC-005). Further grants by route id are added by the stack.
 */
export class RouteFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: RouteFunctionProps) {
    super(scope, id);
    const { route } = props;

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: props.retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    // A dedicated role instead of AWSLambdaBasicExecutionRole: it may write to its own log group only
    // (the managed policy allows logs:* writes on every log group in the account).
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${route.method} ${route.path} (${Stack.of(this).region})`,
    });
    this.logGroup.grantWrite(this.role);

    const native = route.passwordHashing ? nativeArgon2() : undefined;
    this.fn = new NodejsFunction(this, 'Function', {
      entry: fromProjectRoot(route.entry),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: LOCK_FILE,
      description: route.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: native ? lambda.Architecture.X86_64 : lambda.Architecture.ARM_64,
      memorySize: memoryFor(route),
      timeout: Duration.seconds(props.timeoutSeconds ?? 10),
      tracing: lambda.Tracing.ACTIVE,
      logGroup: this.logGroup,
      role: this.role,
      environment: { ...props.environment, NODE_OPTIONS: '--enable-source-maps' },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        minify: true,
        sourceMap: true,
        mainFields: ['module', 'main'],
        // Ship the SDK version we pin and test, not whatever the runtime carries today (CON-DEV-002).
        bundleAwsSDK: true,
        ...(native ? { commandHooks: native } : {}),
        // Bundled CommonJS dependencies may call require(); ESM output has none, so define it.
        banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
      },
    });

    switch (route.table) {
      case 'none':
        break;
      case 'read':
        // Reads, plus PutItem only, and only into the platform partitions: every request may write an
        // audit record of a denial or JIT-provision an operator (FR-SYS-004). It can neither touch a
        // tenant's items nor update or delete anything.
        props.table.grantReadData(this.fn);
        this.fn.addToRolePolicy(
          new iam.PolicyStatement({
            sid: 'AuditAndJitPutItemOnly',
            actions: ['dynamodb:PutItem'],
            resources: [props.table.tableArn],
            conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': Object.values(PLATFORM_PARTITIONS) } },
          }),
        );
        // Recording an API key's last use (004 FR-004) from the delivery routes: UpdateItem on key items only.
        this.fn.addToRolePolicy(
          new iam.PolicyStatement({
            sid: 'ApiKeyUsageUpdateOnly',
            actions: ['dynamodb:UpdateItem'],
            resources: [props.table.tableArn],
            conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${API_KEY_PARTITION_PREFIX}*`] } },
          }),
        );
        // The KMS permissions a write through the table's customer-managed key needs (the same set
        // TableV2.grantWriteData gives).
        props.tableKey.grantEncrypt(this.fn);
        break;
      case 'readwrite':
        props.table.grantReadWriteData(this.fn);
        break;
      default: {
        const unknown: never = route.table;
        throw new Error(`unknown table access ${String(unknown)} for route ${route.id}`);
      }
    }

    // cdk-nag v3 reads acknowledgements from the construct and its ancestors, so each one is placed on
    // the exact L1 resource that carries the finding.
    Validations.of(this.fn.node.defaultChild as lambda.CfnFunction).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'Runtime pinned deliberately to Node 22 LTS, upgraded by ADR.',
    });
    const defaultPolicy = this.role.node.tryFindChild('DefaultPolicy');
    if (!defaultPolicy) return;
    const acknowledgements: Acknowledgment[] = [
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Active X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords do not support resource-level permissions, so they need Resource "*".',
      },
    ];
    if (route.table !== 'none') {
      const tableLogicalId = Stack.of(this).getLogicalId(props.table.node.defaultChild as CfnElement);
      acknowledgements.push(
        {
          id: `AwsSolutions-IAM5[Resource::<${tableLogicalId}.Arn>/index/*]`,
          reason:
            'Queries on the global secondary indexes of this one table (TABLE_SCHEMA.globalIndexes, e.g. GSI1); the wildcard only spans the indexes of the table, never another table.',
        },
        {
          id: 'AwsSolutions-IAM5[Action::kms:ReEncrypt*]',
          reason:
            'CDK-generated KMS grant for writing through a DynamoDB table encrypted with the customer-managed key (NFR-SEC-002); the statement is scoped to that single key ARN.',
        },
        {
          id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
          reason:
            'CDK-generated KMS grant for writing through a DynamoDB table encrypted with the customer-managed key (NFR-SEC-002); the statement is scoped to that single key ARN.',
        },
      );
    }
    Validations.of(defaultPolicy).acknowledge(...acknowledgements);
  }
}
