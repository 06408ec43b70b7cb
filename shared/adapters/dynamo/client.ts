import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface DynamoConfig {
  /** Set only in local mode (DynamoDB Local). In AWS the SDK resolves the regional endpoint. */
  readonly endpoint?: string | undefined;
  readonly region?: string | undefined;
}

/**
 * One client per execution environment: handlers call this from the composition root, which caches it,
 * so connection reuse works across invocations.
 */
export function createDocumentClient(config: DynamoConfig): DynamoDBDocumentClient {
  const local = config.endpoint !== undefined;
  const client = new DynamoDBClient({
    ...(local
      ? {
          endpoint: config.endpoint,
          region: config.region ?? 'local',
          // DynamoDB Local accepts any credentials; fixed ones keep a developer's real keys out of play.
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        }
      : config.region !== undefined
        ? { region: config.region }
        : {}),
    maxAttempts: 3,
  });
  // The SDK's logger middleware runs on every request even with its default no-op logger: it copies
  // input and output through the schema's sensitive-data filter only to hand them to that logger. We never
  // give the SDK a logger (our own log lines say what happened), so it goes; about 15% of the SDK's CPU
  // per request here (doc/adr/0010, issue #3).
  client.middlewareStack.remove('loggerMiddleware');
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}
