import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { z } from 'zod';
import { ValidationError, type FieldIssue } from '../../domain/errors';
import { getState } from '../request';

type Location = FieldIssue['location'];

export function zodIssues(location: Location, error: z.ZodError): FieldIssue[] {
  return error.issues.flatMap((issue): FieldIssue[] => {
    const base = issue.path.map(String).join('/');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((k) => ({ location, pointer: `${base ? `/${base}` : ''}/${k}`, detail: 'is not a recognised field' }));
    }
    return [{ location, pointer: base ? `/${base}` : '', detail: issue.message }];
  });
}

export interface Schemas {
  readonly body?: z.ZodType | undefined;
  readonly query?: z.ZodType | undefined;
  readonly params?: z.ZodType | undefined;
}

/**
 * zod validation of body, query and path. Runs after authentication, so an unauthenticated caller learns
 * nothing about the shape of the API's input. All problems are reported at once.
 */
export function validate(schemas: Schemas): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  return {
    before: (request) => {
      const e = request.event;
      const s = getState(e);
      const issues: FieldIssue[] = [];
      const check = (location: Location, schema: z.ZodType | undefined, input: unknown, set: (v: unknown) => void): void => {
        if (!schema) return;
        const parsed = schema.safeParse(input);
        if (parsed.success) set(parsed.data);
        else issues.push(...zodIssues(location, parsed.error));
      };
      check('path', schemas.params, e.pathParameters ?? {}, (v) => (s.params = v));
      check('query', schemas.query, e.queryStringParameters ?? {}, (v) => (s.query = v));
      check('body', schemas.body, s.body, (v) => (s.body = v));
      if (issues.length > 0) throw new ValidationError('The request is not valid.', issues);
    },
  };
}
