import { container } from '../../shared/composition';
import { buildDigest, DIGEST_GENESIS, parseDigestDocument, signDigest, type DigestBatchRef } from '../../shared/domain/audit-digest';
import { ConflictError, InternalError } from '../../shared/domain/errors';

export interface AuditDigestJobEvent {
  /** Only for tests and operators replaying a run: the job's notion of "now". EventBridge sends none. */
  readonly now?: string;
}

/** Batches delivered in the last minute wait for the next digest: a consumer that stamped its batch may still be writing it. */
const SETTLE_MS = 60_000;
/** ~150 bytes per batch in the document: 2,000 keep a digest item near 300 KB. A busier period gets several digests. */
const MAX_BATCHES_PER_DIGEST = 2_000;
/** A run that finds a long backlog catches up this many digests and leaves the rest to the next run. */
const MAX_DIGESTS_PER_RUN = 20;

/**
 * The audit digest job (issue #6, ADR-0008): an EventBridge schedule in AWS, a timer in local mode. Each
 * run chains the batches delivered since the previous digest into the next digest, signs it and stores
 * it under seq + 1 — also when nothing was delivered, which proves that nothing was. Two concurrent runs
 * cannot both write a seq (conditional put): the loser stops.
 */
export async function handler(event: AuditDigestJobEvent = {}): Promise<{ seq: number; batches: number; records: number }> {
  const c = container();
  const ledger = c.ingest.ledger;
  const signer = c.ingest.digestSigner;
  const now = event.now ? new Date(event.now) : c.clock.now();
  const until = new Date(now.getTime() - SETTLE_MS).toISOString();
  let latest = await ledger.latestDigest();
  let seq = latest?.seq ?? 0;
  let batches = 0;
  let records = 0;
  for (let run = 0; run < MAX_DIGESTS_PER_RUN; run++) {
    const periodStart = latest ? parseDigestDocument(latest.document)?.periodEnd : DIGEST_GENESIS;
    if (periodStart === undefined) throw new InternalError(`stored audit digest ${latest?.seq ?? '?'} is unreadable; refusing to extend the chain`);
    if (until <= periodStart) break;
    const found = await ledger.batchesDeliveredIn(periodStart, until, MAX_BATCHES_PER_DIGEST + 1);
    const { included, periodEnd } = cut(found, until);
    const built = buildDigest({ seq: seq + 1, region: c.config.homeRegion, periodStart, periodEnd, previous: latest ?? null, batches: included, keyId: signer.keyId });
    const signed = await signDigest(built, signer);
    try {
      await ledger.putDigest(signed);
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      c.log.info('audit digest written by a concurrent run', { seq: signed.seq });
      break;
    }
    c.log.info('audit digest written', { seq: signed.seq, periodStart, periodEnd, batches: included.length, records: built.document.recordCount });
    latest = signed;
    seq = signed.seq;
    batches += included.length;
    records += built.document.recordCount;
    if (periodEnd === until) break;
  }
  return { seq, batches, records };
}

/**
 * At most MAX_BATCHES_PER_DIGEST batches, cut between two delivery times (the next digest starts after
 * periodEnd, so batches of one millisecond must not straddle it).
 */
function cut(found: readonly DigestBatchRef[], until: string): { included: readonly DigestBatchRef[]; periodEnd: string } {
  const first = found[MAX_BATCHES_PER_DIGEST];
  if (first === undefined) return { included: found, periodEnd: until };
  const included = found.filter((b) => b.deliveredAt < first.deliveredAt);
  if (included.length === 0) throw new InternalError(`more than ${MAX_BATCHES_PER_DIGEST} audit batches delivered at ${first.deliveredAt}`);
  return { included, periodEnd: new Date(Date.parse(first.deliveredAt) - 1).toISOString() };
}
