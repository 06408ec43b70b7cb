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
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}
