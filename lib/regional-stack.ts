import { CfnOutput, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ENV, HOME_REGIONS, type HomeRegion } from '../shared/config/constants';
import { ROUTES } from '../shared/config/routes';
import { customDomainFor, type DeploymentConfig } from './config';
import { ControlPlaneApi } from './constructs/api';
import { ApiDomain } from './constructs/api-domain';
import { DataKey } from './constructs/data-key';
import { DataTable } from './constructs/data-table';
import { RouteFunction } from './constructs/route-function';

export interface RegionalStackProps extends Omit<StackProps, 'env'> {
  readonly homeRegion: HomeRegion;
  readonly config: DeploymentConfig;
}

/**
 * Everything one home region needs (CON-DATA-001: a tenant's data lives in exactly one of these).
 * Nothing here is shared across regions.
 */
export class RegionalStack extends Stack {
  readonly dataKey: DataKey;
  readonly dataTable: DataTable;
  readonly api: ControlPlaneApi;
  readonly functions: ReadonlyMap<string, RouteFunction>;

  constructor(scope: Construct, id: string, props: RegionalStackProps) {
    const { homeRegion, config, ...stackProps } = props;
    super(scope, id, {
      description: `SaaS control plane, ${HOME_REGIONS[homeRegion].label} home region (${config.stage})`,
      terminationProtection: config.protectData,
      ...stackProps,
      // No lookups anywhere: synth works offline without credentials.
      env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: homeRegion },
    });
    Tags.of(this).add('service', 'control-plane');
    Tags.of(this).add('stage', config.stage);
    Tags.of(this).add('home-region', homeRegion);

    this.dataKey = new DataKey(this, 'DataKey', {
      stage: config.stage,
      region: homeRegion,
      retain: config.protectData,
    });
    this.dataTable = new DataTable(this, 'Data', {
      encryptionKey: this.dataKey.key,
      protect: config.protectData,
    });
    const table = this.dataTable.table;

    const environment: Record<string, string> = {
      [ENV.TABLE_NAME]: table.tableName,
      [ENV.OPERATOR_ISSUER]: config.operatorIssuer,
      [ENV.OPERATOR_AUDIENCE]: config.operatorAudience,
      [ENV.OPERATOR_GROUPS_CLAIM]: config.operatorGroupsClaim,
      [ENV.OPERATOR_GROUP]: config.operatorGroup,
      [ENV.HOME_REGION]: homeRegion,
      [ENV.STAGE]: config.stage,
      [ENV.MAIL_SENDER]: config.mailSender,
    };

    const routeFunctions = ROUTES.map((route) => ({
      route,
      construct: new RouteFunction(this, route.id, {
        route,
        table,
        tableKey: this.dataKey.key,
        environment,
        retainLogs: config.protectData,
      }),
    }));
    this.functions = new Map(routeFunctions.map(({ route, construct }) => [route.id, construct]));

    this.api = new ControlPlaneApi(this, 'Api', {
      stage: config.stage,
      retainLogs: config.protectData,
      routes: routeFunctions.map(({ route, construct }) => ({ route, handler: construct.fn })),
    });

    const domain = customDomainFor(config, homeRegion);
    if (domain) {
      const apiDomain = new ApiDomain(this, 'ApiDomain', { api: this.api.api, ...domain });
      new CfnOutput(this, 'ApiDomainTarget', {
        description: `DNS target (CNAME/alias) for ${domain.domainName}`,
        value: apiDomain.domainName.domainNameAliasDomainName,
      });
    }

    new CfnOutput(this, 'ApiUrl', { value: this.api.api.url, description: 'Invoke URL of the regional API stage' });
    new CfnOutput(this, 'TableName', { value: table.tableName });
    new CfnOutput(this, 'Region', { value: homeRegion });
  }
}
