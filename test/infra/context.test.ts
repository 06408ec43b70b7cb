/**
 * The context keys of issue #3 (issuerUrl, developerGroup, the mailSender domain). These tests only read
 * templates and configuration, so NodejsFunction bundling is skipped (`aws:cdk:bundling-stacks: []`);
 * regional-stacks.test.ts bundles for real.
 */
import { App } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { issuerFor, mailSenderDomain, readConfig } from '../../lib/config';
import { HOME_REGION_IDS, type HomeRegion } from '../../shared/config/constants';
import { FUNCTION_ROUTES, JOBS } from '../../shared/config/routes';
import { MAIL_SENDING_ROUTES } from '../../lib/regional-stack';
import { assertNoDependencyCycle, cdkJsonContext, functionEnvironments, SKIP_BUNDLING, synthesize, type SynthesizedApp } from './helpers';

const CERTIFICATES: Record<HomeRegion, string> = {
  'ap-northeast-1': 'arn:aws:acm:ap-northeast-1:111111111111:certificate/11111111-1111-1111-1111-111111111111',
  'eu-central-1': 'arn:aws:acm:eu-central-1:111111111111:certificate/22222222-2222-2222-2222-222222222222',
};

/** readConfig on an app with cdk.json's context plus `context`. */
function configWith(context: Record<string, unknown>) {
  return readConfig(new App({ context: { ...cdkJsonContext(), ...SKIP_BUNDLING, ...context } }));
}

describe('issuerUrl, developerGroup, mailSender (synthesized)', () => {
  let synth: SynthesizedApp;

  beforeAll(() => {
    synth = synthesize({
      ...SKIP_BUNDLING,
      // Tokyo: explicit issuer (wins over its custom domain; the trailing slash is dropped).
      // Frankfurt: no issuerUrl entry, so its custom domain is the issuer.
      issuerUrl: JSON.stringify({ 'ap-northeast-1': 'https://id.jp.example.com/' }),
      apiDomainName: 'api.control-plane.example.com',
      apiCertificateArn: CERTIFICATES,
      developerGroup: 'platform-developers',
      mailSender: '"Control Plane" <no-reply@Mail.Example.org>',
    });
  });

  const expectedIssuer: Record<HomeRegion, string> = {
    'ap-northeast-1': 'https://id.jp.example.com',
    'eu-central-1': 'https://api.control-plane.example.com',
  };

  describe.each(HOME_REGION_IDS)('%s', (region: HomeRegion) => {
    it('ISSUER (issue #3): issuerUrl wins, else the custom domain; the same on every function', () => {
      const envs = Object.values(functionEnvironments(synth.templates[region]));
      expect(envs).toHaveLength(FUNCTION_ROUTES.length + JOBS.length);
      for (const env of envs) expect(env['ISSUER']).toBe(expectedIssuer[region]);
      expect(synth.stacks[region].issuer).toBe(expectedIssuer[region]);
      expect(() => assertNoDependencyCycle(synth.templates[region])).not.toThrow();
    });

    it('DEVELOPER_GROUP comes from context developerGroup', () => {
      for (const env of Object.values(functionEnvironments(synth.templates[region]))) {
        expect(env['DEVELOPER_GROUP']).toBe('platform-developers');
      }
    });

    it('FR-AUTH-004: ses:SendEmail is scoped to the domain of a display-name sender', () => {
      const policies = JSON.stringify(synth.templates[region].findResources('AWS::IAM::Policy'));
      expect(policies).toContain(`":ses:${region}:",{"Ref":"AWS::AccountId"},":identity/mail.example.org"`);
      // One statement per mail-sending route, each naming exactly this identity.
      expect(policies.match(/ses:SendEmail/g)).toHaveLength(MAIL_SENDING_ROUTES.length);
    });
  });
});

describe('issuerUrl and mailSender (configuration)', () => {
  it('ISSUER: a plain issuerUrl string applies to both regions and beats a custom domain', () => {
    const config = configWith({ issuerUrl: 'https://login.example.com/tenant-auth/', apiDomainName: 'api.example.com', apiCertificateArn: CERTIFICATES });
    for (const region of HOME_REGION_IDS) expect(issuerFor(config, region)).toBe('https://login.example.com/tenant-auth');
  });

  it('ISSUER: without issuerUrl and custom domain the stack builds the execute-api URL (issuerFor is undefined)', () => {
    const config = configWith({});
    for (const region of HOME_REGION_IDS) expect(issuerFor(config, region)).toBeUndefined();
  });

  it.each([
    ['http://login.example.com', /https URL/],
    ['https://login.example.com/?tenant=a', /https URL/],
    ['https://login.example.com/#x', /https URL/],
    ['login.example.com', /not a URL/],
    [JSON.stringify({ 'us-east-1': 'https://login.example.com' }), /issuerUrl\.us-east-1.*not a home region/],
  ])('ISSUER: issuerUrl %s is rejected', (issuerUrl, message) => {
    expect(() => configWith({ issuerUrl })).toThrow(message);
  });

  it.each([
    ['no-reply@example.com', 'example.com'],
    ['"Control Plane" <no-reply@Mail.Example.com>', 'mail.example.com'],
    ['Control Plane <no-reply@mail.example.com>', 'mail.example.com'],
    ['  <ops@eu.example.co.uk> ', 'eu.example.co.uk'],
  ])('FR-AUTH-004: the SES identity of sender %s is %s', (sender, domain) => {
    expect(mailSenderDomain(sender)).toBe(domain);
  });

  it.each(['no-reply', 'no-reply@', '@example.com', 'a@localhost', 'a@exa mple.com', '"A" <a@example.com'])(
    'FR-AUTH-004: sender %s is rejected',
    (sender) => {
      expect(() => configWith({ mailSender: sender })).toThrow(/"mailSender" must be an address/);
    },
  );

  it('developerGroup defaults to cp-developers when absent from the context', () => {
    const context = { ...cdkJsonContext() };
    delete context['developerGroup'];
    expect(readConfig(new App({ context })).developerGroup).toBe('cp-developers');
  });

});
