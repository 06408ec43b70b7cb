import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../../shared/adapters/local/dynamodb-local';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoint: string;
  }
}

/**
 * One in-memory DynamoDB Local for the whole run (the JVM takes seconds to start; 2 cores). Test files
 * isolate themselves by table name, never by sharing data.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const ddb = await startDynamoDbLocal();
  project.provide('dynamoEndpoint', ddb.endpoint);
  return () => ddb.stop();
}
