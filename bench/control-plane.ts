/**
 * The local control plane a benchmark runs against: the one `npm run bench` passes in, or, when a bench
 * file runs alone (`npx tsx bench/token.ts`), its own, on an in-memory DynamoDB Local and a temporary
 * data directory, which `stop()` tears down. Either way the same handlers as in Lambda.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startDynamoDbLocal } from '../shared/adapters/local/dynamodb-local';
import { startLocalControlPlane, type LocalControlPlane } from '../shared/local/control-plane';

const ROOT = resolve(import.meta.dirname, '..');

export interface BenchControlPlane {
  readonly cp: LocalControlPlane;
  readonly dataDir: string;
  /** Stops what this call started; nothing for a control plane that was passed in. */
  stop(): Promise<void>;
}

export async function benchControlPlane(label: string, given: { cp?: LocalControlPlane | undefined; dataDir?: string | undefined } = {}): Promise<BenchControlPlane> {
  if (given.cp && given.dataDir) return { cp: given.cp, dataDir: given.dataDir, stop: async () => undefined };
  const ddb = await startDynamoDbLocal();
  const dataDir = mkdtempSync(join(tmpdir(), `cp-bench-${label}-`));
  let cp: LocalControlPlane;
  try {
    cp = await startLocalControlPlane({ root: ROOT, dataDir, port: 0, idpPort: 0, dynamoEndpoint: ddb.endpoint, tableName: `bench-${randomUUID()}`, homeRegion: 'local', logLevel: 'silent' });
  } catch (err) {
    await ddb.stop();
    throw err;
  }
  return { cp, dataDir, stop: async () => (await cp.stop(), await ddb.stop()) };
}
