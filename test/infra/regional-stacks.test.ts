/**
 * The regional stacks as `cdk synth` builds them for the default stage (dev), with real NodejsFunction
 * bundling (local esbuild) so a broken handler entry fails here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Stack, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { HOME_REGION_IDS, HOME_REGIONS, TABLE_SCHEMA, type HomeRegion } from '../../shared/config/constants';
import { CORS_PREFLIGHTS, FUNCTION_ROUTES, functionRouteOf, JOBS, ROUTES, type RouteDef } from '../../shared/config/routes';
import { SIGNING_KEY_PURPOSE } from '../../shared/adapters/aws/kms-signing-keys';
import { TOKEN_SIGNING_PURPOSE } from '../../lib/constructs/token-signing-key';
import { MAIL_SENDING_ROUTES, SIGNING_KEY_GRANTS, type RegionalStack } from '../../lib/regional-stack';
import { AUTHENTICATION_ROUTE_IDS } from '../../lib/constructs/api';
import { SIGN_IN_PATHS } from '../../lib/constructs/web-acl';
import { assertNoDependencyCycle, cdkJsonContext, formatFindings, functionEnvironments, nagFindings, synthesize, type SynthesizedApp } from './helpers';

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string }>;

let synth: SynthesizedApp;

beforeAll(() => {
  synth = synthesize(); // context from cdk.json only: stage dev, no custom domain
});

const logicalId = (stack: Stack, element: unknown): string => stack.getLogicalId(element as CfnElement);
const fnLogicalId = (stack: RegionalStack, route: RouteDef): string =>
  logicalId(stack, stack.functions.get(functionRouteOf(route).id)?.fn.node.defaultChild);
const tableLogicalId = (stack: RegionalStack): string => logicalId(stack, stack.dataTable.table.node.defaultChild);
const signingKeyLogicalId = (stack: RegionalStack): string => logicalId(stack, stack.tokenSigningKey.key.node.defaultChild);
const PASSWORD_ROUTES = ROUTES.filter((r) => r.passwordHashing);

/** The unpacked asset directory of a route's function (the bundle as it is deployed). */
function assetDir(template: Template, stack: RegionalStack, route: RouteDef): string {
  const resources = template.toJSON().Resources as Resources;
  const code = resources[fnLogicalId(stack, route)]?.Properties?.Code as { S3Key: string };
  return path.join(synth.assembly.directory, `asset.${code.S3Key.replace(/\.zip$/, '')}`);
}

/** The execute-api stage URL the functions get as ISSUER when neither issuerUrl nor a custom domain is set. */
function executeApiIssuer(stack: RegionalStack, region: HomeRegion) {
  return {
    'Fn::Join': ['', ['https://', { Ref: logicalId(stack, stack.api.api.node.defaultChild) }, `.execute-api.${region}.`, { Ref: 'AWS::URLSuffix' }, '/dev']],
  };
}

/** Every IAM action the function's role is allowed, with the resources of each statement. */
function roleStatements(template: Template, stack: RegionalStack, route: RouteDef) {
  const roleId = logicalId(stack, stack.functions.get(functionRouteOf(route).id)?.role.node.defaultChild);
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

    it('NFR-SEC-001: the default execute-api endpoint accepts TLS 1.2 or later only (an enhanced policy; without one it would take TLS 1.0)', () => {
      template().resourceCountIs('AWS::ApiGateway::RestApi', 1);
      const [api] = Object.values(template().findResources('AWS::ApiGateway::RestApi'));
      expect(api?.Properties).toMatchObject({
        SecurityPolicy: 'SecurityPolicy_TLS13_1_2_PFS_PQ_2025_09',
        EndpointAccessMode: 'BASIC',
        EndpointConfiguration: { Types: ['REGIONAL'] },
      });
    });

    it('NFR-SEC-002: table encrypted with a customer-managed key', () => {
      const keyId = logicalId(stack(), stack().dataKey.key.node.defaultChild);
      template().hasResourceProperties('AWS::DynamoDB::GlobalTable', {
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
        Replicas: [Match.objectLike({ SSESpecification: { KMSMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } } })],
      });
    });

    it('NFR-SEC-002: the KMS keys rotate and have per-stage, per-region aliases', () => {
      // The data key and the token-signing wrap key (ADR-0005), nothing else.
      template().resourceCountIs('AWS::KMS::Key', 2);
      for (const key of Object.values(template().findResources('AWS::KMS::Key'))) {
        expect(key.Properties).toMatchObject({ EnableKeyRotation: true });
      }
      template().hasResourceProperties('AWS::KMS::Alias', {
        AliasName: `alias/control-plane/dev/${region}`,
        TargetKeyId: { 'Fn::GetAtt': [logicalId(stack(), stack().dataKey.key.node.defaultChild), 'Arn'] },
      });
    });

    it('NFR-SEC-004, ADR-0005: a dedicated symmetric token-signing wrap key, rotating, root-only key policy, destroyed in dev', () => {
      const keyId = signingKeyLogicalId(stack());
      const key = (template().toJSON().Resources as Resources)[keyId];
      expect(key).toMatchObject({
        Type: 'AWS::KMS::Key',
        DeletionPolicy: 'Delete',
        Properties: { EnableKeyRotation: true, KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT', PendingWindowInDays: 7 },
      });
      expect(keyId).not.toBe(logicalId(stack(), stack().dataKey.key.node.defaultChild));
      // CDK's default key policy: the account root (delegating to IAM), no other principal.
      expect((key?.Properties?.KeyPolicy as { Statement: unknown[] }).Statement).toEqual([
        {
          Action: 'kms:*',
          Effect: 'Allow',
          Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root']] } },
          Resource: '*',
        },
      ]);
      template().hasResourceProperties('AWS::KMS::Alias', {
        AliasName: `alias/control-plane/dev/${region}/token-signing`,
        TargetKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
      });
    });

    it('ADR-0005: the IAM condition uses the encryption-context purpose the signing-key store sends', () => {
      expect(TOKEN_SIGNING_PURPOSE).toBe(SIGNING_KEY_PURPOSE);
    });

    it('NFR-SEC-005, ADR-0005: only OidcToken and KeysRotate may use the token-signing key: Encrypt and Decrypt, with purpose token-signing', () => {
      expect(Object.keys(SIGNING_KEY_GRANTS).sort()).toEqual(['KeysRotate', 'OidcToken']);
      const keyArn = { 'Fn::GetAtt': [signingKeyLogicalId(stack()), 'Arn'] };
      for (const route of ROUTES) {
        const onKey = roleStatements(template(), stack(), route).filter((s) => JSON.stringify(s.resources).includes(`"${signingKeyLogicalId(stack())}"`));
        if (route.id === 'OidcToken' || route.id === 'KeysRotate') {
          expect(onKey, route.id).toEqual([
            {
              actions: ['kms:Encrypt', 'kms:Decrypt'],
              resources: [keyArn],
              conditions: { StringEquals: { 'kms:EncryptionContext:purpose': 'token-signing' } },
            },
          ]);
        } else {
          expect(onKey, `${route.id} must have no permission on the token-signing key`).toEqual([]);
        }
      }
    });

    it('NFR-SEC-005: no IAM role or policy but those of OidcToken and KeysRotate mentions the token-signing key', () => {
      const keyId = signingKeyLogicalId(stack());
      const allowed = ['OidcToken', 'KeysRotate'].map((id) => logicalId(stack(), stack().functions.get(id)?.role.node.defaultChild));
      const resources = template().toJSON().Resources as Resources;
      const mentioning = Object.entries(resources)
        .filter(([, r]) => r.Type.startsWith('AWS::IAM::') && JSON.stringify(r.Properties).includes(`"${keyId}"`))
        .map(([id, r]) => ({ id, roles: (r.Properties?.Roles ?? []) as unknown[] }));
      expect(mentioning.map((m) => m.id)).toHaveLength(2);
      for (const m of mentioning) {
        expect(m.roles).toHaveLength(1);
        expect(allowed.map((roleId) => ({ Ref: roleId }))).toContainEqual(m.roles[0]);
      }
      // The control: the grant is really found by the scan above.
      expect(new Set(mentioning.map((m) => JSON.stringify(m.roles[0])))).toEqual(new Set(allowed.map((roleId) => JSON.stringify({ Ref: roleId }))));
    });

    it('FR-AUTH-004, NFR-SEC-005: only the routes that send mail may, and only from the sender domain identity', () => {
      // Written out by hand: adding a mail-sending route must be a deliberate change here too.
      expect([...MAIL_SENDING_ROUTES].sort()).toEqual(['MePasswordChange', 'PasswordForgotSubmit', 'PasswordResetSubmit', 'TenantsCreate', 'UsersInvite', 'UsersResendInvitation']);
      const senderIdentity = {
        'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:ses:${region}:`, { Ref: 'AWS::AccountId' }, ':identity/example.com']],
      };
      for (const route of ROUTES) {
        const ses = roleStatements(template(), stack(), route).filter((s) => s.actions.some((a) => a.startsWith('ses:')));
        if (MAIL_SENDING_ROUTES.includes(route.id)) {
          expect(ses).toEqual([{ actions: ['ses:SendEmail'], resources: [senderIdentity] }]);
        } else {
          expect(ses, `${route.id} must not send mail`).toEqual([]);
        }
      }
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

    it('every route and every job has exactly one function, and no other function exists', () => {
      template().resourceCountIs('AWS::Lambda::Function', FUNCTION_ROUTES.length + JOBS.length);
      expect(new Set(FUNCTION_ROUTES.map((r) => fnLogicalId(stack(), r))).size).toBe(FUNCTION_ROUTES.length);
    });

    it.each(FUNCTION_ROUTES.map((r) => [r.id, r] as const))('route %s has its own Node 22 function (arm64; x86_64 for argon2)', (_id, route) => {
      const resources = template().toJSON().Resources as Resources;
      const fn = resources[fnLogicalId(stack(), route)];
      expect(fn?.Type).toBe('AWS::Lambda::Function');
      expect(fn?.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        // The prebuilt argon2 addon shipped with passwordHashing routes is linux-x64-gnu.
        Architectures: [route.passwordHashing ? 'x86_64' : 'arm64'],
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
            DEVELOPER_GROUP: 'cp-developers',
            SIGNING_KEY_KMS_KEY_ID: { 'Fn::GetAtt': [signingKeyLogicalId(stack()), 'Arn'] },
            ISSUER: executeApiIssuer(stack(), region),
            NODE_OPTIONS: '--enable-source-maps',
          },
        },
      });
      // Its own log group, with a retention.
      const logGroupRef = (fn?.Properties?.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      expect(resources[logGroupRef]).toMatchObject({ Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 365 } });
    });

    it('only the passwordHashing routes run on x86_64', () => {
      // At least the password login and the invitation acceptance hash passwords.
      expect(PASSWORD_ROUTES.map((r) => r.id)).toEqual(expect.arrayContaining(['InvitationAccept', 'OidcLoginSubmit']));
      const x86 = Object.entries(template().findResources('AWS::Lambda::Function'))
        .filter(([, fn]) => JSON.stringify(fn.Properties.Architectures) === '["x86_64"]')
        .map(([id]) => id)
        .sort();
      expect(x86).toEqual(PASSWORD_ROUTES.map((r) => fnLogicalId(stack(), r)).sort());
    });

    it('CON-SEC-001: passwordHashing bundles ship the argon2 addon with its linux-x64-gnu binary, and it loads from there', () => {
      for (const route of PASSWORD_ROUTES) {
        const dir = assetDir(template(), stack(), route);
        expect(existsSync(path.join(dir, 'node_modules/@node-rs/argon2/package.json')), route.id).toBe(true);
        const binary = path.join(dir, 'node_modules/@node-rs/argon2-linux-x64-gnu/argon2.linux-x64-gnu.node');
        expect(existsSync(binary), route.id).toBe(true);
        // ELF, 64-bit, machine x86-64 (0x3e): what Lambda's x86_64 Amazon Linux loads.
        const header = readFileSync(binary).subarray(0, 20);
        expect([...header.subarray(0, 5)]).toEqual([0x7f, 0x45, 0x4c, 0x46, 2]);
        expect(header.readUInt16LE(18)).toBe(0x3e);
        // Resolved the way the handler resolves it at runtime: createRequire(import.meta.url) in index.mjs.
        const requireFromBundle = createRequire(path.join(dir, 'index.mjs'));
        const addon = requireFromBundle.resolve('@node-rs/argon2');
        expect(addon.startsWith(dir)).toBe(true);
        expect(createRequire(addon).resolve('@node-rs/argon2-linux-x64-gnu').startsWith(dir)).toBe(true);
        const argon2 = requireFromBundle('@node-rs/argon2') as typeof import('@node-rs/argon2');
        expect(argon2.verifySync(argon2.hashSync('correct horse', { memoryCost: 1024, timeCost: 1 }), 'correct horse')).toBe(true);
      }
    });

    it('other bundles contain no node_modules at all (everything else is bundled by esbuild)', () => {
      for (const route of ROUTES.filter((r) => !r.passwordHashing)) {
        expect(existsSync(path.join(assetDir(template(), stack(), route), 'node_modules')), route.id).toBe(false);
      }
    });

    it('the bundles are real ESM with a require() shim and source maps', () => {
      for (const route of ROUTES) {
        const bundle = path.join(assetDir(template(), stack(), route), 'index.mjs');
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
        // UpdateItem appears once, pinned to API key items (last-use tracking); never on anything else.
        const updates = statements.filter((s) => s.actions.includes('dynamodb:UpdateItem'));
        expect(updates).toEqual([{ actions: ['dynamodb:UpdateItem'], resources: [tableArn], conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['APIKEY#*'] } } }]);
        for (const forbidden of ['dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:*', '*']) {
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

    it('NFR-SEC-005: routes without table access get no table permissions, and the data key only through SQS (their audit records)', () => {
      for (const route of ROUTES.filter((r) => r.table === 'none')) {
        const statements = roleStatements(template(), stack(), route);
        expect(statements.flatMap((s) => s.actions).filter((a) => a.startsWith('dynamodb:'))).toEqual([]);
        // Issue #6: every function sends audit records to the KMS-encrypted audit queue; the key is usable
        // for that only (kms:ViaService sqs), never directly.
        for (const s of statements.filter((x) => x.actions.some((a) => a.startsWith('kms:')))) {
          expect([...s.actions].sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
          expect(JSON.stringify(s.conditions)).toMatch(/kms:ViaService.*sqs\./);
        }
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
      template().resourceCountIs('AWS::ApiGateway::Method', ROUTES.length + CORS_PREFLIGHTS.length);
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

    it('IF-LOGIN-UI, FR-AUTH-001: browser apps get CORS preflights on /token, /revoke and /userinfo from a MOCK method that reaches no function', () => {
      const methods = Object.values(template().findResources('AWS::ApiGateway::Method')).filter((m) => m.Properties.HttpMethod === 'OPTIONS');
      expect(methods).toHaveLength(CORS_PREFLIGHTS.length);
      for (const m of methods) {
        expect(m.Properties).toMatchObject({ AuthorizationType: 'NONE', Integration: { Type: 'MOCK' } });
        const headers = m.Properties.Integration.IntegrationResponses[0].ResponseParameters as Record<string, string>;
        expect(headers).toMatchObject({
          'method.response.header.Access-Control-Allow-Origin': "'*'",
          'method.response.header.Access-Control-Allow-Headers': "'authorization,content-type'",
          'method.response.header.Access-Control-Max-Age': "'600'",
        });
      }
      const [stage] = Object.values(template().findResources('AWS::ApiGateway::Stage'));
      for (const { path } of CORS_PREFLIGHTS) {
        expect(stage?.Properties.MethodSettings, path).toContainEqual(expect.objectContaining({ HttpMethod: 'OPTIONS', ResourcePath: `/${path.replaceAll('/', '~1')}`, ThrottlingRateLimit: 5000 }));
      }
    });

    it('NFR-MON-001: the API stage has JSON access logs, ERROR execution logs, tracing and throttling', () => {
      template().hasResourceProperties('AWS::ApiGateway::Stage', {
        StageName: 'dev',
        TracingEnabled: true,
        AccessLogSetting: {
          DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ApiAccessLogs'), 'Arn'] },
          Format: Match.stringLikeRegexp('"requestId":"\\$context\\.requestId"'),
        },
        MethodSettings: Match.arrayWith([
          Match.objectLike({
            HttpMethod: '*',
            ResourcePath: '/*',
            LoggingLevel: 'ERROR',
            DataTraceEnabled: false,
            ThrottlingRateLimit: 1000,
            ThrottlingBurstLimit: 2000,
          }),
        ]),
      });
      template().resourceCountIs('AWS::ApiGateway::Account', 1);
    });

    it('NFR-PERF-004: the authentication methods have their own throttling (5,000/s each), with the stage\'s logging; every other method keeps the stage default', () => {
      const [stage] = Object.values(template().findResources('AWS::ApiGateway::Stage'));
      const settings = stage?.Properties.MethodSettings as Record<string, unknown>[];
      const auth = ROUTES.filter((r) => AUTHENTICATION_ROUTE_IDS.includes(r.id));
      expect(auth.map((r) => r.id).sort()).toEqual([...AUTHENTICATION_ROUTE_IDS].sort());
      expect(auth.map((r) => `${r.method} ${r.path}`)).toEqual(expect.arrayContaining(['POST /token', 'GET /authorize', 'POST /login', 'POST /introspect']));
      // A method setting's resource path is "/" followed by the path with each "/" escaped as "~1".
      for (const r of auth) {
        expect(settings, `${r.method} ${r.path}`).toContainEqual(
          expect.objectContaining({
            HttpMethod: r.method,
            ResourcePath: `/${r.path.replaceAll('/', '~1')}`,
            ThrottlingRateLimit: 5000,
            ThrottlingBurstLimit: 5000,
            LoggingLevel: 'ERROR',
            DataTraceEnabled: false,
            MetricsEnabled: true,
          }),
        );
      }
      // The stage default plus one setting per authentication method and CORS preflight, nothing for the other routes.
      expect(settings).toHaveLength(1 + auth.length + CORS_PREFLIGHTS.length);
    });

    it('ERR-RATE-429: a WAF web ACL with the managed rule groups and a rate limit is associated with the stage', () => {
      const stageId = logicalId(stack(), stack().api.api.deploymentStage.node.defaultChild);
      template().hasResourceProperties('AWS::WAFv2::WebACL', {
        Scope: 'REGIONAL',
        DefaultAction: { Allow: {} },
        Rules: Match.arrayWith([
          Match.objectLike({
            Name: 'RateLimitPerIp',
            Statement: { RateBasedStatement: Match.objectLike({ Limit: 10000, AggregateKeyType: 'IP', EvaluationWindowSec: 300 }) },
            Action: { Block: {} },
          }),
          Match.objectLike({
            Name: 'FloodGuardPerIp',
            Statement: { RateBasedStatement: { Limit: 300000, AggregateKeyType: 'IP', EvaluationWindowSec: 300 } },
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

    it('ERR-RATE-429, NFR-PERF-004: the tight per-IP limit applies to the sign-in pages only, so machine-to-machine calls (/token, /introspect, flags, ingestion) from one address are not blocked at 7 per second', () => {
      const [acl] = Object.values(template().findResources('AWS::WAFv2::WebACL'));
      const rules = acl?.Properties.Rules as { Name: string; Statement: { RateBasedStatement?: { ScopeDownStatement?: unknown } } }[];
      const scope = rules.find((r) => r.Name === 'RateLimitPerIp')?.Statement.RateBasedStatement?.ScopeDownStatement as {
        OrStatement: { Statements: { ByteMatchStatement: { FieldToMatch: unknown; PositionalConstraint: string; SearchString: string } }[] };
      };
      const matched = scope.OrStatement.Statements.map((st) => st.ByteMatchStatement);
      for (const m of matched) expect(m).toMatchObject({ FieldToMatch: { UriPath: {} }, PositionalConstraint: 'ENDS_WITH' });
      expect(matched.map((m) => m.SearchString).sort()).toEqual([...SIGN_IN_PATHS].sort());
      // Every sign-in page is a route, and none of the machine endpoints is caught by the scope.
      const paths = new Set(ROUTES.map((r) => r.path));
      for (const p of SIGN_IN_PATHS) expect(paths.has(p), p).toBe(true);
      for (const p of ['/token', '/introspect', '/revoke', '/userinfo', '/v1/flags', '/v1/billing/events', '/v1/audit/events']) {
        expect(SIGN_IN_PATHS.some((s) => p.endsWith(s)), p).toBe(false);
        expect(paths.has(p), p).toBe(true);
      }
      // The flood guard has no scope: it covers everything.
      expect(rules.find((r) => r.Name === 'FloodGuardPerIp')?.Statement.RateBasedStatement?.ScopeDownStatement).toBeUndefined();
    });

    it('ISSUER (issue #3): without issuerUrl or a custom domain, every function gets the execute-api stage URL', () => {
      const envs = Object.values(functionEnvironments(template()));
      expect(envs).toHaveLength(FUNCTION_ROUTES.length + JOBS.length);
      for (const env of envs) expect(env['ISSUER']).toEqual(executeApiIssuer(stack(), region));
    });

    it('FR-OPS-002: each job runs on its EventBridge schedule, with the same table grants as a readwrite route', () => {
      for (const job of JOBS) {
        const fn = stack().jobs.get(job.id);
        expect(fn).toBeDefined();
        const fnId = stack().getLogicalId(fn!.fn.node.defaultChild as CfnElement);
        template().hasResourceProperties('AWS::Events::Rule', {
          ScheduleExpression: job.schedule,
          State: 'ENABLED',
          Targets: Match.arrayWith([Match.objectLike({ Arn: { 'Fn::GetAtt': [fnId, 'Arn'] } })]),
        });
      }
      template().resourceCountIs('AWS::Events::Rule', JOBS.length);
    });

    it('ISSUER references only the RestApi resource: the template has no dependency cycle', () => {
      expect(() => assertNoDependencyCycle(template())).not.toThrow();
      // Control: had ISSUER referenced the Stage (api.url does), the functions would depend on the stage,
      // which depends on the deployment, the methods, and so on the functions.
      const json = structuredClone(template().toJSON()) as { Resources: Resources };
      const fnId = fnLogicalId(stack(), ROUTES[0]!);
      const stageId = logicalId(stack(), stack().api.api.deploymentStage.node.defaultChild);
      (json.Resources[fnId]!.Properties!['Environment'] as { Variables: Record<string, unknown> }).Variables['ISSUER'] = { Ref: stageId };
      const cyclic = Template.fromJSON(json, { skipCyclicalDependenciesCheck: true });
      expect(() => assertNoDependencyCycle(cyclic)).toThrow(new RegExp(`dependency cycle: .*${fnId}.*${stageId}|dependency cycle: .*${stageId}.*${fnId}`));
    });

    it('DEVELOPER_GROUP defaults to cp-developers (cdk.json developerGroup)', () => {
      expect(cdkJsonContext().developerGroup).toBe('cp-developers');
      for (const env of Object.values(functionEnvironments(template()))) expect(env['DEVELOPER_GROUP']).toBe('cp-developers');
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
