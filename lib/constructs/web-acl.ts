import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';

export interface RegionalWebAclProps {
  /** Prefix for the CloudWatch metric names of the ACL and its rules. */
  readonly metricPrefix: string;
  /** ARN of the resource to protect, e.g. an API Gateway stage ARN. */
  readonly resourceArn: string;
  /** Requests per IP per 5-minute window to the sign-in pages (SIGN_IN_PATHS) before the IP is blocked. */
  readonly rateLimitPer5Min?: number;
  /** Requests per IP per 5-minute window to any path before the IP is blocked: a flood guard. */
  readonly floodLimitPer5Min?: number;
}

/**
 * The browser-facing pages where people type credentials or ask for mail: the only paths where a tight
 * per-IP limit makes sense. Matched on the end of the URI path, because through the default execute-api
 * endpoint WAF sees the stage name in front (`/prod/login`) and through a custom domain it does not.
 */
export const SIGN_IN_PATHS = ['/authorize', '/login', '/password/forgot', '/password/reset', '/invitations/accept', '/logout'] as const;

/**
 * A regional WAFv2 web ACL in front of the REST API stage (cdk-nag AwsSolutions-APIG3): a tight per-IP
 * rate limit on the sign-in pages, a loose per-IP flood guard on everything, the AWS common rule set and
 * the known-bad-inputs rule set.
 *
 * Why not one tight limit for every path: most traffic is machine to machine from a few addresses (a
 * managed app's servers behind NAT calling /token, /introspect, flag delivery and ingestion). A limit of
 * 2,000 per 5 minutes (under 7 per second) per IP on those would block a single busy backend, and with
 * it NFR-PERF-004's 5,000 authentication requests per second. Those paths are bounded by the stage's
 * method throttling (ControlPlaneApi) and the flood guard below; they require client credentials or a
 * token, and there is no per-client quota yet.
 */
export class RegionalWebAcl extends Construct {
  readonly webAcl: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, props: RegionalWebAclProps) {
    super(scope, id);
    const visibility = (name: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      metricName: `${props.metricPrefix}-${name}`,
      sampledRequestsEnabled: true,
    });

    const perIpRule = (name: string, priority: number, limit: number, scopeDownStatement?: wafv2.CfnWebACL.StatementProperty): wafv2.CfnWebACL.RuleProperty => ({
      name,
      priority,
      action: { block: {} },
      statement: { rateBasedStatement: { limit, aggregateKeyType: 'IP', evaluationWindowSec: 300, ...(scopeDownStatement ? { scopeDownStatement } : {}) } },
      visibilityConfig: visibility(name),
    });

    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility('WebAcl'),
      rules: [
        // About 11 sign-ins a second from one address (a sign-in is three requests): a company's people
        // behind one NAT address at nine in the morning. Guessing is stopped earlier and more precisely by
        // the handlers' limits on failed attempts (60 a minute per IP, 10 per account).
        perIpRule('RateLimitPerIp', 0, props.rateLimitPer5Min ?? 10_000, {
          orStatement: {
            statements: SIGN_IN_PATHS.map((path) => ({
              byteMatchStatement: {
                fieldToMatch: { uriPath: {} },
                positionalConstraint: 'ENDS_WITH',
                searchString: path,
                textTransformations: [{ priority: 0, type: 'LOWERCASE' }],
              },
            })),
          },
        }),
        // 1,000 requests per second from one address, sustained over 5 minutes.
        perIpRule('FloodGuardPerIp', 1, props.floodLimitPer5Min ?? 300_000),
        {
          name: 'AWSManagedRulesCommonRuleSet',
          priority: 2,
          overrideAction: { none: {} },
          statement: {
            managedRuleGroupStatement: {
              vendorName: 'AWS',
              name: 'AWSManagedRulesCommonRuleSet',
              // SizeRestrictions_BODY blocks bodies over 8 KB, but the API accepts JSON bodies up to
              // MAX_JSON_BODY_BYTES (64 KB), enforced by the handlers. Count instead of block so the
              // application limit is the one that applies.
              ruleActionOverrides: [{ name: 'SizeRestrictions_BODY', actionToUse: { count: {} } }],
            },
          },
          visibilityConfig: visibility('CommonRuleSet'),
        },
        {
          name: 'AWSManagedRulesKnownBadInputsRuleSet',
          priority: 3,
          overrideAction: { none: {} },
          statement: {
            managedRuleGroupStatement: { vendorName: 'AWS', name: 'AWSManagedRulesKnownBadInputsRuleSet' },
          },
          visibilityConfig: visibility('KnownBadInputs'),
        },
      ],
    });

    new wafv2.CfnWebACLAssociation(this, 'Association', {
      resourceArn: props.resourceArn,
      webAclArn: this.webAcl.attrArn,
    });
  }
}
