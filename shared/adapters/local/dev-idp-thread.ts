import { Worker } from 'node:worker_threads';
import type { DevIdp, DevIdpOptions } from './dev-idp';

/**
 * Runs the dev IdP on a worker thread of the local control plane's process.
 *
 * Why: `oidc-provider` wraps every request in an AsyncLocalStorage, and on Node 20 the first
 * `AsyncLocalStorage.run` installs promise hooks for the whole isolate, for good. In one thread with
 * the control plane, every promise of every API request would then pay those hooks (about 6% of the
 * CPU of a cached flag read, issue #5), a cost no Lambda function pays: in AWS the operators' IdP is
 * another service. A worker thread has its own isolate, so the hooks stay there.
 *
 * The worker starts from dev-idp-worker.mjs, which loads the TypeScript of dev-idp-worker.ts (see there).
 */
export async function startDevIdpThread(opts: DevIdpOptions, timeoutMs = 30_000): Promise<DevIdp> {
  const worker = new Worker(new URL('./dev-idp-worker.mjs', import.meta.url), { workerData: opts });
  type Ready = Pick<DevIdp, 'issuer' | 'port' | 'privateJwks'>;
  const ready = await new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error('dev IdP worker did not start in time'));
    }, timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const onError = (err: Error): void => {
      done();
      reject(new Error(`dev IdP worker failed: ${err.message}`, { cause: err }));
    };
    const onExit = (code: number): void => {
      done();
      reject(new Error(`dev IdP worker exited with code ${code} before it was ready`));
    };
    worker.once('error', onError);
    worker.once('exit', onExit);
    worker.once('message', (msg: { ready?: Ready; failed?: string }) => {
      done();
      if (msg.ready) resolve(msg.ready);
      else {
        void worker.terminate();
        reject(new Error(`dev IdP: ${msg.failed ?? 'worker sent an unexpected message'}`));
      }
    });
  });
  let closing: Promise<void> | undefined;
  return {
    ...ready,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => void worker.terminate().then(() => resolve()), 5_000);
        worker.once('message', () => {
          clearTimeout(timer);
          void worker.terminate().then(() => resolve());
        });
        worker.postMessage('close');
      })),
  };
}
