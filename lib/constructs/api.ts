import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { CORS_ALLOW_HEADERS, CORS_MAX_AGE_SECONDS, CORS_PREFLIGHTS, type RouteDef } from '../../shared/config/routes';
import { RegionalWebAcl } from './web-acl';

export interface ApiRoute {
  readonly route: RouteDef;
  readonly handler: lambda.IFunction;
}

export interface ControlPlaneApiProps {
  /** CDK stage name; also the API Gateway stage name (e.g. `dev`). */
  readonly stage: string;
  readonly routes: readonly ApiRoute[];
  /** RETAIN the API's log groups (every stage except dev). */
  readonly retainLogs: boolean;
  /** Stage-wide default throttling. */
  readonly throttlingRateLimit?: number;
  readonly throttlingBurstLimit?: number;
}

/**
 * NFR-PERF-004: the authentication endpoints, which together must carry 5,000 requests per second. The
 * stage's default method throttling (1,000 per second, burst 2,000) stays for every other route; these get
 * their own, up to the account's regional API Gateway quota (10,000 per second, burst 5,000 by default).
 */
export const AUTHENTICATION_ROUTE_IDS: readonly string[] = [
  'OidcDiscovery',
  'OidcJwks',
  'OidcAuthorize',
  'OidcAuthorizePost',
  'OidcLoginPage',
  'OidcLoginSubmit',
  'OidcToken',
  'OidcUserinfoGet',
  'OidcUserinfoPost',
  'OidcRevoke',
  'OidcIntrospect',
  'OidcLogout',
  'OidcLogoutPost',
];
export const AUTHENTICATION_THROTTLING = { rateLimit: 5000, burstLimit: 5000 } as const;

/** Path parameters of an API Gateway resource path, e.g. `/v1/tenants/{id}` → `['id']`. */
export function pathParameters(path: string): string[] {
  return [...path.matchAll(/\{([^}+]+)\+?\}/g)].map((m) => m[1] as string);
}

/**
 * The regional REST API: one Lambda proxy method per route, JSON access logs, ERROR execution logs,
 * X-Ray, stage throttling, request validation and a WAF web ACL on the stage.
 */
export class ControlPlaneApi extends Construct {
  readonly api: apigateway.RestApi;
  readonly accessLogGroup: logs.LogGroup;
  readonly webAcl: RegionalWebAcl;

  constructor(scope: Construct, id: string, props: ControlPlaneApiProps) {
    super(scope, id);
    const removalPolicy = props.retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy,
    });

    // The stage-wide logging choices. A method setting replaces the stage-wide one for its method as a
    // whole, so the authentication methods below repeat them rather than fall back to API Gateway's defaults.
    const methodLogging = {
      loggingLevel: apigateway.MethodLoggingLevel.ERROR,
      // Never log full request/response bodies: they carry tenant data and tokens.
      dataTraceEnabled: false,
      metricsEnabled: true,
    } as const;
    const authenticationMethods: Record<string, apigateway.MethodDeploymentOptions> = {};
    for (const id of AUTHENTICATION_ROUTE_IDS) {
      const route = props.routes.find((r) => r.route.id === id)?.route;
      if (!route) throw new Error(`AUTHENTICATION_ROUTE_IDS: ${id} is not among the API's routes (renamed?)`);
      authenticationMethods[`${route.path}/${route.method}`] = {
        ...methodLogging,
        throttlingRateLimit: AUTHENTICATION_THROTTLING.rateLimit,
        throttlingBurstLimit: AUTHENTICATION_THROTTLING.burstLimit,
      };
    }
    // A browser app's preflights come with its token and userinfo calls (at most once per max-age).
    for (const { path } of CORS_PREFLIGHTS) {
      authenticationMethods[`${path}/OPTIONS`] = {
        ...methodLogging,
        throttlingRateLimit: AUTHENTICATION_THROTTLING.rateLimit,
        throttlingBurstLimit: AUTHENTICATION_THROTTLING.burstLimit,
      };
    }

    this.api = new apigateway.RestApi(this, 'RestApi', {
      restApiName: `control-plane-${props.stage}`,
      description: `SaaS control plane API (${props.stage})`,
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      disableExecuteApiEndpoint: false,
      // Account-level role API Gateway needs to write access and execution logs. The AWS::ApiGateway::Account
      // resource is a per-region singleton, so the role is kept (default RETAIN) even when the stack goes.
      cloudWatchRole: true,
      deployOptions: {
        stageName: props.stage,
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogGroup),
        // Includes requestId, ip, caller, user, requestTime, httpMethod, resourcePath, status, protocol,
        // responseLength.
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
        ...methodLogging,
        tracingEnabled: true,
        throttlingRateLimit: props.throttlingRateLimit ?? 1000,
        throttlingBurstLimit: props.throttlingBurstLimit ?? 2000,
        methodOptions: authenticationMethods,
      },
    });

    // NFR-SEC-001: TLS 1.2 or later on the default execute-api endpoint too. Without a policy, a regional
    // REST API's default endpoint uses TLS_1_0 (only custom domains could choose before enhanced policies;
    // ApiDomain sets TLS_1_2 there). This enhanced policy accepts TLS 1.3 and 1.2 with forward-secret,
    // post-quantum-hybrid key exchange. An enhanced policy requires an endpoint access mode; BASIC keeps
    // every way in that works today (the custom domain, the console's origin), where STRICT would also
    // refuse requests whose SNI does not match, a change we cannot verify without an AWS account here.
    const cfnApi = this.api.node.defaultChild as apigateway.CfnRestApi;
    cfnApi.securityPolicy = apigateway.SecurityPolicy.TLS13_1_2_PFS_PQ_2025_09;
    cfnApi.endpointAccessMode = apigateway.EndpointAccessMode.BASIC;

    // Execution logs go to a log group API Gateway creates on first write, without retention. Creating it
    // here gives it a retention and ties its lifetime to the stack.
    new logs.LogGroup(this, 'ExecutionLogs', {
      logGroupName: `API-Gateway-Execution-Logs_${this.api.restApiId}/${props.stage}`,
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy,
    });

    const validator = new apigateway.RequestValidator(this, 'RequestValidator', {
      restApi: this.api,
      requestValidatorName: 'body-and-params',
      validateRequestBody: true,
      validateRequestParameters: true,
    });

    for (const { route, handler } of props.routes) {
      const resource = this.api.root.resourceForPath(route.path);
      const requestParameters = Object.fromEntries(
        pathParameters(route.path).map((name) => [`method.request.path.${name}`, true]),
      );
      const method = resource.addMethod(
        route.method,
        // Proxy integration; no test-invoke permission (least privilege, NFR-SEC-005).
        new apigateway.LambdaIntegration(handler, { proxy: true, allowTestInvoke: false }),
        {
          operationName: route.id,
          requestValidator: validator,
          ...(Object.keys(requestParameters).length > 0 ? { requestParameters } : {}),
        },
      );
      Validations.of(method).acknowledge(
        {
          id: 'AwsSolutions-APIG4',
          reason:
            'Authorization happens inside the handlers: operator JWTs are verified by the same code that runs locally, with aws-jwt-verify (FR-SYS-004). The health routes are public by design.',
        },
        {
          id: 'AwsSolutions-COG4',
          reason:
            'No Cognito user pool: operators sign in with an external OIDC IdP and the handlers verify their JWTs with aws-jwt-verify, the same code that runs locally.',
        },
      );
    }

    for (const { path, methods } of CORS_PREFLIGHTS) {
      const preflight = this.api.root.resourceForPath(path).addCorsPreflight({
        allowOrigins: ['*'],
        allowMethods: [...methods],
        allowHeaders: [...CORS_ALLOW_HEADERS],
        maxAge: Duration.seconds(CORS_MAX_AGE_SECONDS),
        statusCode: 204,
      });
      Validations.of(preflight).acknowledge(
        {
          id: 'AwsSolutions-APIG4',
          reason: 'A CORS preflight (OPTIONS, MOCK integration) carries no credentials by definition and grants nothing: the actual request is authenticated by its handler, which also decides its own Access-Control-Allow-Origin.',
        },
        {
          id: 'AwsSolutions-COG4',
          reason: 'A CORS preflight cannot carry a Cognito token (browsers send none on OPTIONS); it answers from a MOCK integration and reaches no function.',
        },
      );
    }

    this.webAcl = new RegionalWebAcl(this, 'Waf', {
      metricPrefix: `control-plane-${props.stage}`,
      resourceArn: this.api.deploymentStage.stageArn,
    });

    const cloudWatchRole = this.api.node.tryFindChild('CloudWatchRole');
    if (cloudWatchRole) {
      Validations.of(cloudWatchRole).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason:
          'AmazonAPIGatewayPushToCloudWatchLogs is the AWS-maintained policy for the account-level API Gateway logging role (needed for access and execution logs); it only covers CloudWatch Logs.',
      });
    }
  }
}
