/**
 * Child process for test/server-store.test.ts: opens the store, applies one step's effects (a job
 * answered with its Statuses), reports, and kills itself with SIGKILL at once: no close, no flush.
 * Usage: node --import tsx store-crash-child.ts DB JOB_ID
 */
import { SqliteStore } from '../../src/server/sqlite-store.js';

const [db, jobId] = process.argv.slice(2);
const store = SqliteStore.open(db);
await store.apply([
  { type: 'job', jobId, at: 2, state: 'answered', statuses: [{ path: '0', step: 'send', cmd: 'Replace', code: 200, msgRef: '2', cmdRef: '3' }] },
  { type: 'tree', deviceId: 'dev1', at: 2, nodes: [{ uri: './A', data: '1', encoding: 'text' }] },
]);
process.stdout.write('applied\n', () => process.kill(process.pid, 'SIGKILL'));
