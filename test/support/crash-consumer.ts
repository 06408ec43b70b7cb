/**
 * Child process for the "consumer killed after writing, before acknowledging" fault test (issue #6): it
 * consumes the billing spool at CRASH_SPOOL with the real consumer, whose records are stored, and is
 * SIGKILLed in the archive step — after the table writes, before the local queue deletes the message.
 */
import { writeSync } from 'node:fs';
import { registerLocalConsumer } from '../../shared/adapters/local/local-queue';
import { consumeBillingBatch } from '../../shared/api/ingest-consumer';
import { container } from '../../shared/composition';

const spool = process.env['CRASH_SPOOL'];
if (!spool) throw new Error('CRASH_SPOOL is not set');
const c = container();
const dying = {
  ...c,
  ingest: {
    ...c.ingest,
    archives: {
      ...c.ingest.archives,
      billing: {
        put: async (): Promise<void> => {
          writeSync(1, 'stored, dying before the acknowledgement\n');
          process.kill(process.pid, 'SIGKILL');
          await new Promise(() => undefined);
        },
      },
    },
  },
};
registerLocalConsumer(spool, 'billing', (event) => consumeBillingBatch(dying, event), { batchSize: 10, maxReceiveCount: 5 });
setTimeout(() => {
  writeSync(2, 'the consumer never ran\n');
  process.exit(3);
}, 30_000).unref();
// Keep the process alive until the kill (the queue's timers are unref'd).
setInterval(() => undefined, 1_000);
