/**
 * Child process for kill-9.test.ts: opens the SQLite store and alternates setCardRecord /
 * clearPaymentCardData on random meters as fast as it can, printing "<id> <rev>" after each
 * operation returns (= what a protocol would acknowledge). The parent SIGKILLs it at a random
 * moment and checks that every acknowledged write survived and no record is torn.
 *
 * kill-9.test.ts transpiles it (with src/core and src/device) and runs it as
 * `node kill-child.js <db> full|process <seed>`.
 */
import { writeSync } from 'node:fs';
import { DEFAULT_BEHAVIOUR } from '../../src/device/behaviour';
import { createIdGenerator } from '../../src/device/id-generator';
import { Meter } from '../../src/device/meter';
import { SqliteMeterStore, type Durability } from '../../src/device/storage/sqlite-store';

export const KILL_TEST_ISSUER_PREFIX = '9826176001';
export const KILL_TEST_EVENT_BOUND = 16;

function write(line: string): void {
  const buf = Buffer.from(line);
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(1, buf, off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
    }
  }
}

function main(): void {
  const [path, durability, seedText] = process.argv.slice(2);
  if (!path || (durability !== 'full' && durability !== 'process'))
    throw new Error('usage: <db> full|process <seed>');
  let seed = Number(seedText ?? '1') >>> 0 || 1;
  // xorshift32: a seeded choice of meter and card per step, so runs differ but are replayable.
  const rand = (): number => {
    seed ^= seed << 13;
    seed >>>= 0;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    seed >>>= 0;
    return seed;
  };
  const store = new SqliteMeterStore(path, { durability: durability as Durability });
  const behaviour = { ...DEFAULT_BEHAVIOUR, eventLogBound: KILL_TEST_EVENT_BOUND };
  const meters = Meter.loadAll({ store, behaviourOf: () => behaviour });
  const ids = createIdGenerator(`kill-${seedText ?? ''}`);
  write('ready\n');
  for (let step = 0; ; step++) {
    const m = meters[rand() % meters.length]!;
    if (m.readCardRecord()) {
      m.applySync('clearPaymentCardData', { actor: 'DCC' });
    } else {
      m.applySync('setCardRecord', {
        actor: 'farm',
        paymentCardId: ids.paymentCardId(step % 1_000_000, KILL_TEST_ISSUER_PREFIX),
        issuerSupplierId: 'SUPB',
        siteId: `S${step}`,
      });
    }
    write(`${m.id} ${m.state.rev}\n`);
  }
}

if (require.main === module) main();
