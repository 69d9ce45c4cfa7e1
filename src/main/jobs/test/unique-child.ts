/**
 * Child process of unique.test.ts: waits for "GO <startAt ms>" on stdin, then for round 0..n-1
 * inserts a unique download of URL #round as fast as it can, racing its siblings (each on its own
 * connection) on every key. argv: <db file> <rounds>.
 * Prints one JSON line: { inserted: string[] (URLs this child inserted), conflicts: number }.
 */
import { openDatabase } from '../../db/connection';
import { createScheduler, defineWorker } from '../index';

const [file, triesArg] = process.argv.slice(2);
const db = openDatabase(file!, { busyTimeoutMs: 10_000 });
const download = defineWorker<{ spotify_url: string; quality: string }>({
  name: 'download',
  queue: 'download',
  unique: { period: 300, fields: ['worker', 'args'], keys: ['spotify_url'] },
  perform: () => undefined,
});
const scheduler = createScheduler({ db, workers: [download], testing: 'manual' });
process.stdout.write('READY\n');
process.stdin.once('data', (data) => {
  // Spin until the shared start time so every child hits the first key at the same moment.
  const startAt = Number(String(data).split(' ')[1]);
  while (Date.now() < startAt) {
    /* spin */
  }
  const inserted: string[] = [];
  let conflicts = 0;
  for (let round = 0; round < Number(triesArg); round++) {
    // A new key per round: every round is a fresh race between the children.
    const url = `https://open.spotify.com/track/${round}`;
    const [r] = scheduler.insertAllSync([{ worker: download, args: { spotify_url: url, quality: `${process.pid}` } }]);
    if (r!.conflict) conflicts++;
    else inserted.push(url);
  }
  db.close();
  process.stdout.write(`${JSON.stringify({ inserted, conflicts })}\n`);
  process.exit(0);
});
