import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ValidationError } from '../../domain/errors';
import { getState, header } from '../request';

const JSON_TYPE = /^application\/([a-z0-9.+-]*\+)?json(\s*;.*)?$/i;

/** Parses a JSON body with a size limit. Runs only on routes that declare a body schema. */
export function jsonBody(maxBytes: number): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  return {
    before: (request) => {
      const e = request.event;
      const s = getState(e);
      const raw = e.body ?? '';
      const bytes = e.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
      if (bytes.length > maxBytes) {
        throw new ValidationError(`The request body exceeds ${maxBytes} bytes.`, [{ location: 'body', pointer: '', detail: 'is too large' }]);
      }
      if (bytes.length === 0) throw new ValidationError('A JSON request body is required.', [{ location: 'body', pointer: '', detail: 'is required' }]);
      const type = header(e, 'content-type');
      if (type === undefined || !JSON_TYPE.test(type)) {
        throw new ValidationError('Content-Type must be application/json.', [{ location: 'header', pointer: '/content-type', detail: 'must be application/json' }]);
      }
      try {
        s.body = JSON.parse(bytes.toString('utf8'));
      } catch {
        // The parser's message can echo input; the client gets a fixed one.
        throw new ValidationError('The request body is not valid JSON.', [{ location: 'body', pointer: '', detail: 'is not valid JSON' }]);
      }
    },
  };
}
