import type { Construct } from 'constructs';
import type { HomeRegion } from '../shared/config/constants';

/**
 * Deployment settings read from CDK context (cdk.json, or `-c key=value` on the CLI).
 * Only plain data lives here; constructs receive it as props.
 */
export interface DeploymentConfig {
  /** Stage name, e.g. `dev` or `prod`. Also the API Gateway stage name. */
  readonly stage: string;
  /**
   * True for every stage except `dev`: deletion protection on the table and RETAIN removal policies
   * on stateful resources (table, key, log groups).
   */
  readonly protectData: boolean;
  readonly operatorIssuer: string;
  readonly operatorAudience: string;
  readonly operatorGroupsClaim: string;
  readonly operatorGroup: string;
  readonly mailSender: string;
  /** Custom domain per home region (optional; see `customDomainFor`). */
  readonly apiDomainName?: RegionalValue;
  readonly apiCertificateArn?: RegionalValue;
}

/** A context value that is either the same for every region or given per region. */
export type RegionalValue = string | Readonly<Partial<Record<HomeRegion, string>>>;

export interface CustomDomainConfig {
  readonly domainName: string;
  /** ACM certificate in the same region as the stack (regional endpoints need a regional certificate). */
  readonly certificateArn: string;
}

export const DEFAULT_STAGE = 'dev';

const STAGE_PATTERN = /^[a-z][a-z0-9-]{0,29}$/;

function requiredString(scope: Construct, key: string): string {
  const value: unknown = scope.node.tryGetContext(key);
  if (typeof value !== 'string' || value.trim() === '') {
    throw new Error(`CDK context "${key}" is required (set it in cdk.json or pass -c ${key}=...)`);
  }
  return value;
}

/**
 * Accepts a string, a JSON object string (as passed with `-c key='{"eu-central-1":"..."}'`) or an object
 * keyed by region (as written in cdk.json).
 */
function regionalValue(scope: Construct, key: string): RegionalValue | undefined {
  const raw: unknown = scope.node.tryGetContext(key);
  if (raw === undefined || raw === null || raw === '') return undefined;
  let value: unknown = raw;
  if (typeof raw === 'string' && raw.trim().startsWith('{')) {
    try {
      value = JSON.parse(raw);
    } catch {
      throw new Error(`CDK context "${key}" looks like JSON but does not parse`);
    }
  }
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const entries = Object.entries(value);
    for (const [region, v] of entries) {
      if (typeof v !== 'string') throw new Error(`CDK context "${key}.${region}" must be a string`);
    }
    return Object.fromEntries(entries) as Partial<Record<HomeRegion, string>>;
  }
  throw new Error(`CDK context "${key}" must be a string or an object keyed by region`);
}

export function readConfig(scope: Construct): DeploymentConfig {
  const stageRaw: unknown = scope.node.tryGetContext('stage') ?? DEFAULT_STAGE;
  if (typeof stageRaw !== 'string' || !STAGE_PATTERN.test(stageRaw)) {
    throw new Error(`CDK context "stage" must match ${STAGE_PATTERN} (got ${JSON.stringify(stageRaw)})`);
  }
  const apiDomainName = regionalValue(scope, 'apiDomainName');
  const apiCertificateArn = regionalValue(scope, 'apiCertificateArn');
  return {
    stage: stageRaw,
    protectData: stageRaw !== DEFAULT_STAGE,
    operatorIssuer: requiredString(scope, 'operatorIssuer'),
    operatorAudience: requiredString(scope, 'operatorAudience'),
    operatorGroupsClaim: requiredString(scope, 'operatorGroupsClaim'),
    operatorGroup: requiredString(scope, 'operatorGroup'),
    mailSender: requiredString(scope, 'mailSender'),
    ...(apiDomainName !== undefined ? { apiDomainName } : {}),
    ...(apiCertificateArn !== undefined ? { apiCertificateArn } : {}),
  };
}

function pick(value: RegionalValue | undefined, region: HomeRegion): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value[region];
}

/**
 * The custom domain for one region, or undefined when either the domain name or the certificate is not
 * configured for that region. A certificate from another region is a configuration error: API Gateway
 * regional endpoints only accept certificates from their own region.
 */
export function customDomainFor(config: DeploymentConfig, region: HomeRegion): CustomDomainConfig | undefined {
  const domainName = pick(config.apiDomainName, region);
  const certificateArn = pick(config.apiCertificateArn, region);
  if (!domainName || !certificateArn) return undefined;
  const arnRegion = /^arn:aws[a-z-]*:acm:([a-z0-9-]+):/.exec(certificateArn)?.[1];
  if (arnRegion === undefined) {
    throw new Error(`apiCertificateArn for ${region} is not an ACM certificate ARN: ${certificateArn}`);
  }
  if (arnRegion !== region) {
    throw new Error(
      `apiCertificateArn for ${region} is in ${arnRegion}; a regional API needs a certificate from ${region}. ` +
        'Give apiCertificateArn per region, e.g. {"ap-northeast-1": "arn:...", "eu-central-1": "arn:..."}',
    );
  }
  return { domainName, certificateArn };
}
