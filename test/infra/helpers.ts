import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildApp, type ControlPlaneApp } from '../../lib/app';
import { PROJECT_ROOT } from '../../lib/paths';
import { HOME_REGION_IDS, type HomeRegion } from '../../shared/config/constants';

/** The context the CDK CLI passes from cdk.json, so the tests synthesize what `cdk synth` does. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return cdkJson.context ?? {};
}

/**
 * Skip NodejsFunction bundling for every stack (CDK's `aws:cdk:bundling-stacks` context, the same
 * switch `cdk synth --exclusively` uses). Only for tests that look at the template, never at the code.
 */
export const SKIP_BUNDLING = { 'aws:cdk:bundling-stacks': [] as string[] };

export interface SynthesizedApp extends ControlPlaneApp {
  readonly app: App;
  readonly assembly: CloudAssembly;
  readonly templates: Readonly<Record<HomeRegion, Template>>;
}

/** Builds the app exactly as bin/app.ts does (stacks + cdk-nag plugin) and synthesizes it once. */
export function synthesize(context: Record<string, unknown> = {}): SynthesizedApp {
  const app = new App({
    outdir: mkdtempSync(path.join(tmpdir(), 'cdk-infra-test-')),
    context: {
      ...cdkJsonContext(),
      // The cdk-nag plugin still runs during synth, but a finding does not throw here (it does in
      // `cdk synth`): the cdk-nag tests report each finding, and the other assertions still run.
      '@aws-cdk/core:failSynthOnValidationErrors': false,
      ...context,
    },
  });
  const built = buildApp(app);
  const assembly = app.synth();
  const templates = Object.fromEntries(
    HOME_REGION_IDS.map((region) => [
      region,
      Template.fromJSON(assembly.getStackArtifact(built.stacks[region].artifactId).template as Record<string, unknown>),
    ]),
  ) as Record<HomeRegion, Template>;
  return { ...built, app, assembly, templates };
}

export interface NagFinding {
  readonly rule: string;
  readonly severity: string;
  readonly resources: string[];
  readonly description: string;
}

/**
 * Runs the AwsSolutions pack directly on one stack (cdk-nag v3's documented entry point for tests) and
 * returns the unacknowledged findings of one severity.
 */
export function nagFindings(scope: import('constructs').IConstruct, severity: 'error' | 'warning'): NagFinding[] {
  const report = new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(scope);
  return report.violations
    .filter((v) => v.severity === severity)
    .map((v) => ({
      rule: v.ruleName,
      severity: v.severity ?? 'unknown',
      resources: v.violatingResources.map((r) => r.constructPath ?? r.resourceLogicalId ?? '?'),
      description: v.description,
    }));
}

export function formatFindings(findings: readonly NagFinding[]): string {
  return findings.map((f) => `${f.rule} (${f.severity}) on ${f.resources.join(', ')}\n  ${f.description}`).join('\n');
}

/**
 * Throws when the template has a dependency cycle among its resources (Ref, Fn::GetAtt, DependsOn, ...):
 * CloudFormation would reject it at deploy time. `Template.fromJSON` runs that check (synthesize() gets
 * it on every template); this names it in the tests that are about it.
 */
export function assertNoDependencyCycle(template: Template): void {
  Template.fromJSON(template.toJSON());
}

/** The environment variables of every Lambda function in a template, by logical id. */
export function functionEnvironments(template: Template): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    Object.entries(template.findResources('AWS::Lambda::Function')).map(([id, fn]) => [
      id,
      ((fn.Properties as { Environment?: { Variables?: Record<string, unknown> } }).Environment?.Variables ?? {}),
    ]),
  );
}
