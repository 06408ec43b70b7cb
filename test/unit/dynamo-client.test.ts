import { describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../shared/adapters/dynamo/client';

describe('DynamoDB document client (ADR-0010, issue #3)', () => {
  it("drops the SDK's logger middleware and keeps the rest of the pipeline", () => {
    const client = createDocumentClient({ endpoint: 'http://127.0.0.1:1', region: 'local' });
    const stack = client.middlewareStack.identify().join('\n');
    expect(stack).not.toMatch(/loggerMiddleware/);
    // What the table needs from the pipeline is still there: serde, signing, retries.
    expect(stack).toMatch(/serializerMiddleware/);
    expect(stack).toMatch(/httpSigningMiddleware/);
    expect(stack).toMatch(/retryMiddleware/);
    client.destroy();
  });
});
