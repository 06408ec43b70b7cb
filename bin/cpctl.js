#!/usr/bin/env node
// Entry point for the `cpctl` bin: loads the TypeScript CLI through tsx, so no build step is needed.
import { register } from 'tsx/esm/api';

register();
await import('./cpctl.ts');
