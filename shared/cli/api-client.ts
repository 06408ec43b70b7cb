/** A small typed client for the control-plane API, used by cpctl. Problems come back as ApiProblem. */
export interface ProblemBody {
  readonly type?: string;
  readonly title?: string;
  readonly status?: number;
  readonly code?: string;
  readonly detail?: string;
  readonly requestId?: string;
  readonly errors?: readonly { location: string; pointer: string; detail: string }[];
}

export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly problem: ProblemBody,
  ) {
    super(`${problem.code ?? `HTTP ${status}`}: ${problem.detail ?? problem.title ?? 'request failed'}`);
    this.name = 'ApiProblem';
  }
}

export class ApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly accessToken: string | undefined,
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.accessToken) headers['authorization'] = `Bearer ${this.accessToken}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(new URL(path, this.baseUrl), {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      throw new Error(`cannot reach ${this.baseUrl}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const text = await res.text();
    const parsed: unknown = text.length > 0 ? safeJson(text) : undefined;
    if (!res.ok) throw new ApiProblem(res.status, (parsed ?? { title: res.statusText }) as ProblemBody);
    return parsed as T;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { detail: text.slice(0, 200) };
  }
}
