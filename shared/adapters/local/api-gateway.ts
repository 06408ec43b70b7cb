/**
 * Local stand-in for API Gateway's REST proxy integration: turns an HTTP request into the
 * APIGatewayProxyEvent the deployed function receives, calls the *same* handler module Lambda runs, and
 * turns the result back into an HTTP response. Only the routing table decides what is reachable, as in AWS.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { CORS_ALLOW_HEADERS, CORS_MAX_AGE_SECONDS, type CORS_PREFLIGHTS, type RouteDef } from '../../config/routes';
import { PROBLEM_TYPE_BASE, SECURITY_HEADERS } from '../../http/response';

/** API Gateway's own payload limit; the handlers enforce their smaller limits themselves. */
const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;
/** Matches the deployed functions' timeout. */
const FUNCTION_TIMEOUT_MS = 10_000;

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export interface CompiledRoute {
  readonly def: RouteDef;
  readonly pattern: RegExp;
  readonly params: readonly string[];
}

export function compile(def: RouteDef): CompiledRoute {
  const params: string[] = [];
  const source = def.path
    .split('/')
    .map((seg) => {
      const m = /^\{(\w+)\}$/.exec(seg);
      if (!m?.[1]) return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      params.push(m[1]);
      return '([^/]+)';
    })
    .join('/');
  return { def, pattern: new RegExp(`^${source}$`), params };
}

export interface LocalApiOptions {
  readonly routes: readonly RouteDef[];
  /** Project root, against which route entries resolve. */
  readonly root: string;
  /** Extra non-API pages served by the local server (e.g. the mail outbox), tried before 404. */
  readonly extra?: (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;
  /** CORS preflights the gateway answers itself, as API Gateway's MOCK OPTIONS methods do. */
  readonly preflights?: typeof CORS_PREFLIGHTS;
}

/** The answer of API Gateway's CORS preflight method (lib/constructs/api.ts `addCorsPreflight`). */
function preflight(res: ServerResponse, methods: readonly string[]): void {
  res.writeHead(204, {
    'access-control-allow-origin': '*',
    'access-control-allow-methods': methods.join(','),
    'access-control-allow-headers': CORS_ALLOW_HEADERS.join(','),
    'access-control-max-age': String(CORS_MAX_AGE_SECONDS),
  });
  res.end();
}

function gatewayProblem(res: ServerResponse, status: number, code: string, title: string): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/problem+json; charset=utf-8' });
  res.end(JSON.stringify({ type: `${PROBLEM_TYPE_BASE}${code}`, title, status, code }));
}

const EMPTY = Buffer.alloc(0);

/**
 * The request's headers as API Gateway passes them, read from rawHeaders in one pass. Reading
 * req.headers instead would make Node build a second, lower-cased header object per request, which
 * showed in the cached flag read's profile (issue #5).
 */
interface ScannedHeaders {
  readonly headers: Record<string, string>;
  readonly multiValueHeaders: Record<string, string[]>;
  readonly contentType: string | undefined;
  readonly userAgent: string | null;
  /** Content-Length or Transfer-Encoding present: HTTP/1.1 has a body only then (RFC 9112 §6.3). */
  readonly framed: boolean;
}

function scanHeaders(raw: readonly string[]): ScannedHeaders {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  let contentType: string | undefined;
  let userAgent: string | null = null;
  let framed = false;
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i] ?? '';
    const v = raw[i + 1] ?? '';
    headers[k] = v;
    (multiValueHeaders[k] ??= []).push(v);
    // Length first: most names are skipped without lower-casing them.
    switch (k.length) {
      case 12:
        if (contentType === undefined && k.toLowerCase() === 'content-type') contentType = v;
        break;
      case 10:
        if (userAgent === null && k.toLowerCase() === 'user-agent') userAgent = v;
        break;
      case 14:
        if (k.toLowerCase() === 'content-length') framed = true;
        break;
      case 17:
        if (k.toLowerCase() === 'transfer-encoding') framed = true;
        break;
    }
  }
  return { headers, multiValueHeaders, contentType, userAgent, framed };
}

async function readBody(req: IncomingMessage, framed: boolean): Promise<Buffer | 'too-large'> {
  // No Content-Length and no Transfer-Encoding: there is no body, and Node's parser has already ended
  // the stream. Skipping the async iterator saves a GET most of its cost.
  if (!framed) {
    req.resume();
    return EMPTY;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > MAX_PAYLOAD_BYTES) return 'too-large';
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

function isTextual(contentType: string | undefined): boolean {
  return contentType === undefined || /^(text\/|application\/(json|[a-z0-9.+-]*\+json|x-www-form-urlencoded|xml))/i.test(contentType);
}

function sourceIp(address: string | undefined): string {
  if (address === undefined) return '127.0.0.1';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

function buildEvent(req: IncomingMessage, url: URL, route: CompiledRoute, match: RegExpExecArray, body: Buffer, scanned: ScannedHeaders): APIGatewayProxyEvent {
  const { headers, multiValueHeaders, contentType, userAgent } = scanned;
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  // url.searchParams is built lazily: most requests have no query, and then no such object is made.
  if (url.search !== '') {
    for (const [k, v] of url.searchParams) {
      query[k] = v;
      (multiQuery[k] ??= []).push(v);
    }
  }
  const pathParameters: Record<string, string> = {};
  route.params.forEach((name, i) => {
    pathParameters[name] = decodeURIComponent(match[i + 1] ?? '');
  });
  const textual = body.length === 0 || isTextual(contentType);
  const now = Date.now();
  const requestId = randomUUID();
  return {
    resource: route.def.path,
    path: url.pathname,
    httpMethod: req.method ?? 'GET',
    headers,
    multiValueHeaders,
    queryStringParameters: Object.keys(query).length > 0 ? query : null,
    multiValueQueryStringParameters: Object.keys(multiQuery).length > 0 ? multiQuery : null,
    pathParameters: route.params.length > 0 ? pathParameters : null,
    stageVariables: null,
    body: body.length === 0 ? null : textual ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: body.length > 0 && !textual,
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      authorizer: null,
      protocol: `HTTP/${req.httpVersion}`,
      httpMethod: req.method ?? 'GET',
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: sourceIp(req.socket.remoteAddress),
        user: null,
        userAgent,
        userArn: null,
      },
      path: url.pathname,
      stage: 'local',
      requestId,
      requestTimeEpoch: now,
      resourceId: route.def.id,
      resourcePath: route.def.path,
    },
  };
}

/** What Lambda passes as the context; a class so that a request creates no closures (issue #5 bench). */
class LocalContext implements Context {
  readonly callbackWaitsForEmptyEventLoop = false;
  readonly functionVersion = '$LATEST';
  readonly memoryLimitInMB = '512';
  readonly logStreamName = 'local';
  readonly functionName: string;
  readonly invokedFunctionArn: string;
  readonly logGroupName: string;
  private readonly deadline = Date.now() + FUNCTION_TIMEOUT_MS;

  constructor(
    route: RouteDef,
    readonly awsRequestId: string,
  ) {
    this.functionName = `local-${route.id}`;
    this.invokedFunctionArn = `arn:aws:lambda:local:000000000000:function:local-${route.id}`;
    this.logGroupName = `/aws/lambda/local-${route.id}`;
  }

  getRemainingTimeInMillis(): number {
    return Math.max(0, this.deadline - Date.now());
  }

  done(): void {}

  fail(): void {}

  succeed(): void {}
}

/**
 * The routes a path can match, in table order: the literal routes with exactly this path and the
 * parameterised ones with as many segments (a parameter matches one segment). Same answer as trying
 * every route in order, with a fraction of the regular expressions run per request.
 */
export function routeIndex(compiled: readonly CompiledRoute[]): (pathname: string) => CompiledRoute[] {
  const order = new Map(compiled.map((r, i) => [r, i]));
  const literal = new Map<string, CompiledRoute[]>();
  const bySegments = new Map<number, CompiledRoute[]>();
  for (const r of compiled) {
    if (r.params.length === 0) (literal.get(r.def.path) ?? literal.set(r.def.path, []).get(r.def.path)!).push(r);
    else {
      const n = r.def.path.split('/').length;
      (bySegments.get(n) ?? bySegments.set(n, []).get(n)!).push(r);
    }
  }
  return (pathname) => {
    const a = literal.get(pathname) ?? [];
    const b = bySegments.get(pathname.split('/').length) ?? [];
    if (a.length === 0) return b;
    if (b.length === 0) return a;
    return [...a, ...b].sort((x, y) => order.get(x)! - order.get(y)!);
  };
}

export function createLocalApi(options: LocalApiOptions): Server {
  const compiled = options.routes.map(compile);
  const candidates = routeIndex(compiled);
  const loaded = new Map<string, Promise<Handler>>();
  const load = (def: RouteDef): Promise<Handler> => {
    let p = loaded.get(def.entry);
    if (!p) {
      p = import(pathToFileURL(resolve(options.root, def.entry)).href).then((mod: { handler?: Handler }) => {
        if (typeof mod.handler !== 'function') throw new Error(`${def.entry} exports no handler`);
        return mod.handler;
      });
      loaded.set(def.entry, p);
    }
    return p;
  };

  return createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const cors = req.method === 'OPTIONS' ? options.preflights?.find((p) => p.path === url.pathname) : undefined;
      if (cors) return preflight(res, cors.methods);
      let matchedPath = false;
      for (const route of candidates(url.pathname)) {
        const m = route.pattern.exec(url.pathname);
        if (!m) continue;
        matchedPath = true;
        if (route.def.method !== req.method) continue;
        const scanned = scanHeaders(req.rawHeaders);
        const body = await readBody(req, scanned.framed);
        if (body === 'too-large') return gatewayProblem(res, 413, 'ERR-VAL-400', 'Request entity too large');
        const event = buildEvent(req, url, route, m, body, scanned);
        const handler = await load(route.def);
        const result = await handler(event, new LocalContext(route.def, event.requestContext.requestId));
        let headers = result.headers as Record<string, string | string[]> | undefined;
        if (result.multiValueHeaders) {
          headers = { ...headers };
          for (const [k, v] of Object.entries(result.multiValueHeaders)) headers[k] = v.map(String);
        }
        res.writeHead(result.statusCode, headers);
        res.end(result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body);
        return;
      }
      if (options.extra && (await options.extra(req, res))) return;
      // API Gateway answers unknown routes itself; we answer in our own problem format.
      if (matchedPath) return gatewayProblem(res, 405, 'ERR-VAL-400', 'Method not allowed');
      return gatewayProblem(res, 404, 'ERR-RES-404', 'Resource not found');
    })().catch((err: unknown) => {
      // A handler that throws past its middleware is a Lambda error: API Gateway answers 502, no details.
      process.stderr.write(`${JSON.stringify({ level: 'error', msg: 'local gateway: handler crashed', error: err instanceof Error ? err.message : String(err) })}\n`);
      if (!res.headersSent) gatewayProblem(res, 502, 'ERR-SYS-500', 'Internal error');
      else res.end();
    });
  });
}
