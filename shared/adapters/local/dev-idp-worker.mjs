// Entry of the dev IdP's worker thread (dev-idp-thread.ts). On Node 20 a worker inherits neither tsx's
// loader nor vitest's transform, and `--import tsx` in its execArgv does not cover the entry module, so
// this plain-JavaScript entry loads the TypeScript through tsx's API.
import { tsImport } from 'tsx/esm/api';

await tsImport('./dev-idp-worker.ts', import.meta.url);
