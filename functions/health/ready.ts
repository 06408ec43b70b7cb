import { UnavailableError } from '../../shared/domain/errors';
import { defineHandler } from '../../shared/http/handler';

const READY_TIMEOUT_MS = 800;

/** GET /ready — readiness: the table answers within a deadline. No internal detail either way. */
export const handler = defineHandler({
  auth: 'none',
  handle: async ({ deps }) => {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new UnavailableError('readiness check timed out')), READY_TIMEOUT_MS);
    });
    try {
      await Promise.race([deps.health.ping(), deadline]);
    } catch (err) {
      throw err instanceof UnavailableError ? err : new UnavailableError('datastore not ready', err);
    } finally {
      clearTimeout(timer);
    }
    return { status: 200, body: { status: 'ready' } };
  },
});
