#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { buildApp } from '../lib/app';

// Context (cdk.json or -c): stage (default dev), operatorIssuer, operatorAudience, operatorGroupsClaim,
// operatorGroup, mailSender, and optionally apiDomainName + apiCertificateArn (string or per-region object).
const app = new App();
buildApp(app);
app.synth();
