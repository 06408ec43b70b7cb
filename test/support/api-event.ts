import type { APIGatewayProxyEvent } from 'aws-lambda';

/** A minimal API Gateway proxy event for calling a handler directly, without the local gateway. */
export function apiEvent(overrides: Partial<APIGatewayProxyEvent> = {}): APIGatewayProxyEvent {
  return {
    resource: '/probe',
    path: '/probe',
    httpMethod: 'GET',
    headers: {},
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: { requestId: 'req-12345678', identity: { sourceIp: '203.0.113.9', userAgent: 'unit' } } as APIGatewayProxyEvent['requestContext'],
    ...overrides,
  };
}
