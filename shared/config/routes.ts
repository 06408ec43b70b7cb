/**
 * The API's routes: one Lambda entry point each. The CDK stack creates a function and an API Gateway
 * method per route; the local server dispatches to the same entry modules. Pure data, see constants.ts.
 */
export type TableAccess = 'none' | 'read' | 'readwrite';

export interface RouteDef {
  /** Stable id, used for construct ids and function names. */
  readonly id: string;
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** API Gateway resource path; `{name}` marks a path parameter. */
  readonly path: string;
  /** Module exporting `handler`, relative to the project root. */
  readonly entry: string;
  /**
   * What the function may do to the table. `read` still includes PutItem, because every request may
   * write an audit record (a denial) or JIT-provision an operator (FR-SYS-004).
   */
  readonly table: TableAccess;
  readonly description: string;
}

export const ROUTES: readonly RouteDef[] = [
  {
    id: 'HealthLive',
    method: 'GET',
    path: '/health',
    entry: 'functions/health/live.ts',
    table: 'none',
    description: 'Liveness: no dependencies',
  },
  {
    id: 'HealthReady',
    method: 'GET',
    path: '/ready',
    entry: 'functions/health/ready.ts',
    table: 'read',
    description: 'Readiness: the table answers',
  },
  {
    id: 'TenantsCreate',
    method: 'POST',
    path: '/v1/tenants',
    entry: 'functions/tenants/create.ts',
    table: 'readwrite',
    description: 'UC-PROV-001: provision a tenant',
  },
  {
    id: 'TenantsList',
    method: 'GET',
    path: '/v1/tenants',
    entry: 'functions/tenants/list.ts',
    table: 'read',
    description: 'List tenants (cursor pagination)',
  },
  {
    id: 'TenantsGet',
    method: 'GET',
    path: '/v1/tenants/{id}',
    entry: 'functions/tenants/get.ts',
    table: 'read',
    description: 'Get one tenant',
  },
];
