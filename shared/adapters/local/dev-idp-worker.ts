/**
 * Worker-thread entry of the dev IdP (see dev-idp-thread.ts for why it runs on its own thread).
 * Receives DevIdpOptions as workerData, answers with the issuer, port and key set once listening, and
 * closes the server when the parent posts 'close'.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { startDevIdp, type DevIdpOptions } from './dev-idp';

const port = parentPort;
if (!port) throw new Error('dev-idp-worker: must run as a worker thread');

try {
  const idp = await startDevIdp(workerData as DevIdpOptions);
  port.on('message', (msg: unknown) => {
    if (msg !== 'close') return;
    idp.close().then(
      () => port.postMessage({ closed: true }),
      (err: unknown) => port.postMessage({ closed: true, error: err instanceof Error ? err.message : String(err) }),
    );
  });
  port.postMessage({ ready: { issuer: idp.issuer, port: idp.port, privateJwks: idp.privateJwks } });
} catch (err) {
  port.postMessage({ failed: err instanceof Error ? err.message : String(err) });
}
