import type { Construct } from 'constructs';
import { HOME_REGION_IDS, type HomeRegion } from '../shared/config/constants';

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
  /** IdP group whose members are developers (ACT-DEV). Context `developerGroup`, default `cp-developers`. */
  readonly developerGroup: string;
  readonly mailSender: string;
  /**
   * The domain of `mailSender` (`"Name" <a@b.example>` or `a@b.example` → `b.example`): the SES identity
   * the invitation mail is sent from, and the only one the sending function may use.
   */
  readonly mailSenderDomain: string;
  /**
   * The OpenID issuer (the deployment's public base URL) per home region, when set explicitly (context
   * `issuerUrl`). Validated (https, no query or fragment) and without its trailing slash. See `issuerFor`.
   */
  readonly issuerUrl?: RegionalValue;
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
export const DEFAULT_DEVELOPER_GROUP = 'cp-developers';

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

function optionalString(scope: Construct, key: string, fallback: string): string {
  const value: unknown = scope.node.tryGetContext(key);
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'string' || value.trim() === '') throw new Error(`CDK context "${key}" must be a non-empty string`);
  return value;
}

const DOMAIN_PATTERN = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/**
 * The domain part of a mail sender: `"Control Plane" <no-reply@mail.example.com>`, `Control Plane
 * <no-reply@mail.example.com>` or `no-reply@mail.example.com` all give `mail.example.com` (lower case).
 */
export function mailSenderDomain(mailSender: string): string {
  const trimmed = mailSender.trim();
  const address = /<([^<>]*)>$/.exec(trimmed)?.[1]?.trim() ?? trimmed;
  const at = address.lastIndexOf('@');
  const domain = at > 0 ? address.slice(at + 1).toLowerCase() : '';
  if (!DOMAIN_PATTERN.test(domain) || /[\s<>"]/.test(address.slice(0, at))) {
    throw new Error(
      `CDK context "mailSender" must be an address such as no-reply@example.com or "Name" <no-reply@example.com> (got ${JSON.stringify(mailSender)})`,
    );
  }
  return domain;
}

/** An issuer URL as OpenID Connect requires it: https, no query, no fragment; the trailing slash dropped. */
function normalizeIssuer(value: string, where: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`CDK context "${where}" is not a URL: ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'https:' || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new Error(`CDK context "${where}" must be an https URL without query, fragment or credentials (got ${JSON.stringify(value)})`);
  }
  return value.trim().replace(/\/+$/, '');
}

function issuerUrls(scope: Construct): RegionalValue | undefined {
  const value = regionalValue(scope, 'issuerUrl');
  if (value === undefined) return undefined;
  if (typeof value === 'string') return normalizeIssuer(value, 'issuerUrl');
  // A mistyped region key would silently fall back to another issuer, and with it to other token `iss`.
  const regions: readonly string[] = HOME_REGION_IDS;
  return Object.fromEntries(
    Object.entries(value).map(([region, url]) => {
      if (!regions.includes(region)) throw new Error(`CDK context "issuerUrl.${region}": not a home region (${HOME_REGION_IDS.join(', ')})`);
      return [region, normalizeIssuer(url as string, `issuerUrl.${region}`)];
    }),
  );
}

export function readConfig(scope: Construct): DeploymentConfig {
  const stageRaw: unknown = scope.node.tryGetContext('stage') ?? DEFAULT_STAGE;
  if (typeof stageRaw !== 'string' || !STAGE_PATTERN.test(stageRaw)) {
    throw new Error(`CDK context "stage" must match ${STAGE_PATTERN} (got ${JSON.stringify(stageRaw)})`);
  }
  const apiDomainName = regionalValue(scope, 'apiDomainName');
  const apiCertificateArn = regionalValue(scope, 'apiCertificateArn');
  const issuerUrl = issuerUrls(scope);
  const mailSender = requiredString(scope, 'mailSender');
  return {
    stage: stageRaw,
    protectData: stageRaw !== DEFAULT_STAGE,
    operatorIssuer: requiredString(scope, 'operatorIssuer'),
    operatorAudience: requiredString(scope, 'operatorAudience'),
    operatorGroupsClaim: requiredString(scope, 'operatorGroupsClaim'),
    operatorGroup: requiredString(scope, 'operatorGroup'),
    developerGroup: optionalString(scope, 'developerGroup', DEFAULT_DEVELOPER_GROUP),
    mailSender,
    mailSenderDomain: mailSenderDomain(mailSender),
    ...(issuerUrl !== undefined ? { issuerUrl } : {}),
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

/**
 * The OpenID issuer of one region when it is known from configuration: context `issuerUrl` for that
 * region, else `https://<apiDomainName>` when the region has a custom domain (mapped at the root, so no
 * stage path). Undefined means: the API's own execute-api stage URL, which the stack builds once the API
 * exists.
 */
export function issuerFor(config: DeploymentConfig, region: HomeRegion): string | undefined {
  const explicit = pick(config.issuerUrl, region);
  if (explicit !== undefined) return explicit;
  const domain = customDomainFor(config, region);
  return domain ? `https://${domain.domainName}` : undefined;
}
