import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import { Construct } from 'constructs';

export interface ApiDomainProps {
  readonly api: apigateway.RestApi;
  readonly domainName: string;
  /** ACM certificate in the stack's region. */
  readonly certificateArn: string;
}

/**
 * Optional custom domain for the regional API. NFR-SEC-001: TLS 1.2 is the minimum protocol.
 * DNS is not managed here: point the name at `domainName.domainNameAliasDomainName`.
 */
export class ApiDomain extends Construct {
  readonly domainName: apigateway.DomainName;

  constructor(scope: Construct, id: string, props: ApiDomainProps) {
    super(scope, id);
    this.domainName = new apigateway.DomainName(this, 'DomainName', {
      domainName: props.domainName,
      certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', props.certificateArn),
      endpointType: apigateway.EndpointType.REGIONAL,
      securityPolicy: apigateway.SecurityPolicy.TLS_1_2,
    });
    // Root base path: https://<domain>/v1/tenants reaches the API stage's /v1/tenants.
    this.domainName.addBasePathMapping(props.api, { stage: props.api.deploymentStage });
  }
}
