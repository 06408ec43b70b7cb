import { Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { HOME_REGION_IDS, HOME_REGIONS, type HomeRegion } from '../shared/config/constants';
import { readConfig, type DeploymentConfig } from './config';
import { RegionalStack } from './regional-stack';

export interface ControlPlaneApp {
  readonly config: DeploymentConfig;
  /** One stack per home region, and no other (CON-DATA-001). */
  readonly stacks: Readonly<Record<HomeRegion, RegionalStack>>;
}

/**
 * Adds the control plane to a CDK app: one regional stack per home region, checked by cdk-nag's
 * AwsSolutions pack. Shared by bin/app.ts and the infra tests so both synthesize the same thing.
 */
export function buildApp(app: App): ControlPlaneApp {
  const config = readConfig(app);
  const stacks = Object.fromEntries(
    HOME_REGION_IDS.map((region) => [
      region,
      new RegionalStack(app, HOME_REGIONS[region].stackName, { homeRegion: region, config }),
    ]),
  ) as Record<HomeRegion, RegionalStack>;
  // cdk-nag v3 is a CDK policy-validation plugin (v2 was an Aspect): a violation fails `synth`.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { config, stacks };
}
