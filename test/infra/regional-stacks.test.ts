/**
 * The regional stacks as `cdk synth` builds them for the default stage (dev), with real NodejsFunction
 * bundling (local esbuild) so a broken handler entry fails here.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Stack, type CfnElement } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { HOME_REGION_IDS, HOME_REGIONS, TABLE_SCHEMA, type HomeRegion } from '../../shared/config/constants';
import { ROUTES, type RouteDef } from '../../shared/config/routes';
import type { RegionalStack } from '../../lib/regional-stack';
import { cdkJsonContext, formatFindings, nagFindings, synthesize, type SynthesizedApp } from './helpers';

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string }>;

let synth: SynthesizedApp;

beforeAll(() => {
  synth = synthesize(); // context from cdk.json only: stage dev, no custom domain
});

const logicalId = (stack: Stack, element: unknown): string => stack.getLogicalId(element as CfnElement);
const fnLogicalId = (stack: RegionalStack, route: RouteDef): string =>
  logicalId(stack, stack.functions.get(route.id)?.fn.node.defaultChild);
const tableLogicalId = (stack: RegionalStack): string => logicalId(stack, stack.dataTable.table.node.defaultChild);

/** Every IAM action the function's role is allowed, with the resources of each statement. */
function roleStatements(template: Template, stack: RegionalStack, route: RouteDef) {
  const roleId = logicalId(stack, stack.functions.get(route.id)?.role.node.defaultChild);
  const resources = template.toJSON().Resources as Resources;
  const role = resources[roleId];
  expect(role?.Properties?.ManagedPolicyArns ?? []).toEqual([]);
  expect(role?.Properties?.Policies ?? []).toEqual([]);
  const statements: { actions: string[]; resources: unknown[]; conditions?: unknown }[] = [];
  for (const r of Object.values(resources)) {
    if (r.Type !== 'AWS::IAM::Policy') continue;
    const roles = (r.Properties?.Roles ?? []) as unknown[];
    if (!roles.some((ref) => JSON.stringify(ref) === JSON.stringify({ Ref: roleId }))) continue;
    const doc = r.Properties?.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown; Effect: string; Condition?: unknown }[] };
    for (const s of doc.Statement) {
      expect(s.Effect).toBe('Allow');
      statements.push({
        actions: ([] as string[]).concat(s.Action),
        resources: ([] as unknown[]).concat(s.Resource),
        ...(s.Condition !== undefined ? { conditions: s.Condition } : {}),
      });
    }
  }
  return statements;
}

describe('Regional stacks (stage dev)', () => {
  it('CON-DATA-001: defines stacks only for Tokyo and Frankfurt', () => {
    const stacks = synth.app.node.children.filter((c): c is Stack => Stack.isStack(c));
    expect(stacks.map((s) => [s.stackName, s.region]).sort()).toEqual(
      [
        ['ControlPlane-Frankfurt', 'eu-central-1'],
        ['ControlPlane-Tokyo', 'ap-northeast-1'],
      ].sort(),
    );
    expect(HOME_REGION_IDS.map((r) => HOME_REGIONS[r].stackName).sort()).toEqual(stacks.map((s) => s.stackName).sort());
    const artifacts = synth.assembly.stacks.map((s) => s.environment.region).sort();
    expect(artifacts).toEqual(['ap-northeast-1', 'eu-central-1']);
  });

  it('stacks use the default stage and no data protection in dev', () => {
    expect(synth.config.stage).toBe('dev');
    expect(synth.config.protectData).toBe(false);
    for (const s of synth.assembly.stacks) expect(s.terminationProtection ?? false).toBe(false);
  });

  describe.each(HOME_REGION_IDS)('%s', (region: HomeRegion) => {
    const stack = (): RegionalStack => synth.stacks[region];
    const template = (): Template => synth.templates[region];

    it('CON-DATA-001: the single table has one replica, in its home region', () => {
      template().resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
      template().hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        Replicas: [Match.objectLike({ Region: region })],
      });
    });

    it('NFR-SEC-002: table encrypted with a customer-managed key', () => {
      const keyId = logicalId(stack(), stack().dataKey.key.node.defaultChild);
      template().hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
        Replicas: [Match.objectLike({ SSESpecification: { KMSMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } } })],
      });
    });

    it('NFR-SEC-002: the KMS key rotates and has a per-stage, per-region alias', () => {
      template().resourceCountIs('AWS::KMS::Key', 1);
      template().hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
      template().hasResourceProperties('AWS::KMS::Alias', { AliasName: `alias/control-plane/dev/${region}` });
    });

    it('NFR-OPS-004: point-in-time recovery', () => {
      template().hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        Replicas: [Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } })],
      });
    });

    it('table shape follows TABLE_SCHEMA: PK/SK, GSI1, TTL, on-demand', () => {
      const gsi = TABLE_SCHEMA.globalIndexes[0]!;
      template().hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: TABLE_SCHEMA.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE_SCHEMA.sortKey, KeyType: 'RANGE' },
        ],
        AttributeDefinitions: Match.arrayWith([
          { AttributeName: 'PK', AttributeType: 'S' },
          { AttributeName: 'SK', AttributeType: 'S' },
          { AttributeName: 'GSI1PK', AttributeType: 'S' },
          { AttributeName: 'GSI1SK', AttributeType: 'S' },
        ]),
        GlobalSecondaryIndexes: [
          Match.objectLike({
            IndexName: gsi.indexName,
            KeySchema: [
              { AttributeName: gsi.partitionKey, KeyType: 'HASH' },
              { AttributeName: gsi.sortKey, KeyType: 'RANGE' },
            ],
          }),
        ],
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      });
    });

    it('NFR-OPS-004: deletion protection is off in dev and the table is destroyed with the stack', () => {
      template().hasResource('AWS::DynamoDB::GlobalTable', {
        DeletionPolicy: 'Delete',
        Properties: Match.objectLike({
          Replicas: [Match.objectLike({ DeletionProtectionEnabled: false })],
        }),
      });
    });

    it.each(ROUTES.map((r) => [r.id, r] as const))('route %s has its own Node 22 arm64 function', (_id, route) => {
      const resources = template().toJSON().Resources as Resources;
      const fn = resources[fnLogicalId(stack(), route)];
      expect(fn?.Type).toBe('AWS::Lambda::Function');
      expect(fn?.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Timeout: 10,
        MemorySize: route.entry.startsWith('functions/health/') ? 256 : 512,
        Handler: 'index.handler',
        TracingConfig: { Mode: 'Active' },
        Environment: {
          Variables: {
            TABLE_NAME: { Ref: tableLogicalId(stack()) },
            HOME_REGION: region,
            STAGE: 'dev',
            OPERATOR_ISSUER: cdkJsonContext().operatorIssuer,
            OPERATOR_AUDIENCE: cdkJsonContext().operatorAudience,
            OPERATOR_GROUPS_CLAIM: cdkJsonContext().operatorGroupsClaim,
            OPERATOR_GROUP: cdkJsonContext().operatorGroup,
            MAIL_SENDER: cdkJsonContext().mailSender,
            NODE_OPTIONS: '--enable-source-maps',
          },
        },
      });
      // Its own log group, with a retention.
      const logGroupRef = (fn?.Properties?.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      expect(resources[logGroupRef]).toMatchObject({ Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 365 } });
    });

    it('the bundles are real ESM with a require() shim and source maps', () => {
      const resources = template().toJSON().Resources as Resources;
      for (const route of ROUTES) {
        const code = resources[fnLogicalId(stack(), route)]?.Properties?.Code as { S3Key: string };
        const assetDir = path.join(synth.assembly.directory, `asset.${code.S3Key.replace(/\.zip$/, '')}`);
        const bundle = path.join(assetDir, 'index.mjs');
        expect(existsSync(bundle), `${route.entry} was not bundled to ${bundle}`).toBe(true);
        expect(readFileSync(bundle, 'utf8')).toMatch(/^import \{ createRequire \} from 'module'; const require = createRequire\(import\.meta\.url\);/);
        expect(existsSync(`${bundle}.map`)).toBe(true);
      }
    });

    it('NFR-SEC-005: read-only routes cannot delete', () => {
      const tableArn = { 'Fn::GetAtt': [tableLogicalId(stack()), 'Arn'] };
      for (const route of ROUTES.filter((r) => r.table === 'read')) {
        const statements = roleStatements(template(), stack(), route);
        const actions = statements.flatMap((s) => s.actions);
        for (const forbidden of ['dynamodb:DeleteItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem', 'dynamodb:*', '*']) {
          expect(actions, `${route.id} must not be allowed ${forbidden}`).not.toContain(forbidden);
        }
        expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query']));
        // PutItem (denial audit records, operator JIT provisioning) is the only write: on the table itself,
        // and only into the platform partitions, never a tenant's.
        const puts = statements.filter((s) => s.actions.includes('dynamodb:PutItem'));
        expect(puts).toEqual([
          {
            actions: ['dynamodb:PutItem'],
            resources: [tableArn],
            conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['PLATFORM#AUDIT', 'PLATFORM#OPERATOR'] } },
          },
        ]);
      }
    });

    it('NFR-SEC-005: routes without table access get no table or key permissions', () => {
      for (const route of ROUTES.filter((r) => r.table === 'none')) {
        const actions = roleStatements(template(), stack(), route).flatMap((s) => s.actions);
        expect(actions.filter((a) => a.startsWith('dynamodb:') || a.startsWith('kms:'))).toEqual([]);
      }
    });

    it('NFR-SEC-005: read-write routes may write, and only to this table', () => {
      for (const route of ROUTES.filter((r) => r.table === 'readwrite')) {
        const statements = roleStatements(template(), stack(), route);
        const writes = statements.filter((s) => s.actions.includes('dynamodb:UpdateItem'));
        expect(writes.length).toBeGreaterThan(0);
        for (const s of writes) {
          expect(JSON.stringify(s.resources)).toContain(tableLogicalId(stack()));
        }
      }
    });

    it('the REST API is regional with one Lambda proxy method per route, validated', () => {
      template().hasResourceProperties('AWS::ApiGateway::RestApi', {
        EndpointConfiguration: { Types: ['REGIONAL'] },
        DisableExecuteApiEndpoint: false,
      });
      template().resourceCountIs('AWS::ApiGateway::Method', ROUTES.length);
      template().hasResourceProperties('AWS::ApiGateway::RequestValidator', {
        ValidateRequestBody: true,
        ValidateRequestParameters: true,
      });
      const methods = Object.values(template().findResources('AWS::ApiGateway::Method'));
      for (const route of ROUTES) {
        const method = methods.find(
          (m) =>
            m.Properties.HttpMethod === route.method &&
            JSON.stringify(m.Properties.Integration).includes(`"${fnLogicalId(stack(), route)}"`),
        );
        expect(method, `no ${route.method} method integrated with ${route.id}`).toBeDefined();
        expect(method?.Properties).toMatchObject({
          AuthorizationType: 'NONE',
          Integration: { Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' },
        });
        expect(method?.Properties.RequestValidatorId).toBeDefined();
      }
      template().hasResourceProperties('AWS::ApiGateway::Method', {
        HttpMethod: 'GET',
        RequestParameters: { 'method.request.path.id': true },
      });
    });

    it('NFR-MON-001: the API stage has JSON access logs, ERROR execution logs, tracing and throttling', () => {
      template().hasResourceProperties('AWS::ApiGateway::Stage', {
        StageName: 'dev',
        TracingEnabled: true,
        AccessLogSetting: {
          DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ApiAccessLogs'), 'Arn'] },
          Format: Match.stringLikeRegexp('"requestId":"\\$context\\.requestId"'),
        },
        MethodSettings: [
          Match.objectLike({
            HttpMethod: '*',
            ResourcePath: '/*',
            LoggingLevel: 'ERROR',
            DataTraceEnabled: false,
            ThrottlingRateLimit: 1000,
            ThrottlingBurstLimit: 2000,
          }),
        ],
      });
      template().resourceCountIs('AWS::ApiGateway::Account', 1);
    });

    it('ERR-RATE-429: a WAF web ACL with the managed rule groups and a rate limit is associated with the stage', () => {
      const stageId = logicalId(stack(), stack().api.api.deploymentStage.node.defaultChild);
      template().hasResourceProperties('AWS::WAFv2::WebACL', {
        Scope: 'REGIONAL',
        DefaultAction: { Allow: {} },
        Rules: Match.arrayWith([
          Match.objectLike({
            Statement: { RateBasedStatement: { Limit: 2000, AggregateKeyType: 'IP', EvaluationWindowSec: 300 } },
            Action: { Block: {} },
          }),
          Match.objectLike({
            Statement: { ManagedRuleGroupStatement: Match.objectLike({ VendorName: 'AWS', Name: 'AWSManagedRulesCommonRuleSet' }) },
          }),
          Match.objectLike({
            Statement: { ManagedRuleGroupStatement: { VendorName: 'AWS', Name: 'AWSManagedRulesKnownBadInputsRuleSet' } },
          }),
        ]),
      });
      const associations = Object.values(template().findResources('AWS::WAFv2::WebACLAssociation'));
      expect(associations).toHaveLength(1);
      expect(JSON.stringify(associations[0]?.Properties.ResourceArn)).toContain(`{"Ref":"${stageId}"}`);
    });

    it('has no custom domain unless configured', () => {
      template().resourceCountIs('AWS::ApiGateway::DomainName', 0);
    });

    it('outputs ApiUrl, TableName and Region', () => {
      template().hasOutput('ApiUrl', { Value: Match.anyValue() });
      template().hasOutput('TableName', { Value: { Ref: tableLogicalId(stack()) } });
      template().hasOutput('Region', { Value: region });
    });

    it('CON-DEV-001: cdk-nag AwsSolutions reports zero unacknowledged errors', () => {
      const errors = nagFindings(stack(), 'error');
      expect(errors, formatFindings(errors)).toEqual([]);
    });

    it('CON-DEV-001: cdk-nag AwsSolutions reports zero unacknowledged warnings', () => {
      const warnings = nagFindings(stack(), 'warning');
      expect(warnings, formatFindings(warnings)).toEqual([]);
    });
  });
});
