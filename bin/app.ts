#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { buildApp } from '../lib/app';

// Context (cdk.json or -c): stage (default dev), operatorIssuer, operatorAudience, operatorGroupsClaim,
// operatorGroup, developerGroup (default cp-developers), mailSender, and optionally apiDomainName +
// apiCertificateArn and issuerUrl (each a string or a per-region object).
const app = new App();
buildApp(app);
app.synth();
