import type { APIGatewayProxyResult } from 'aws-lambda';
import { SECURITY_HEADERS } from '../../shared/http/response';

/**
 * GET /health — liveness. Deliberately outside the middleware stack and the composition root: it must
 * answer even when configuration or dependencies are broken, and says nothing about them.
 */
export const handler = async (): Promise<APIGatewayProxyResult> => ({
  statusCode: 200,
  headers: { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8' },
  body: JSON.stringify({ status: 'ok' }),
});
