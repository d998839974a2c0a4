import { parentPort, workerData } from 'node:worker_threads';
import { runSeed, type SweepJob } from './sweep-run.ts';

/**
 * A sweep worker thread: gets the job once (workerData), then one seed per message, and answers each with its
 * result. The main thread hands out the next seed as each answer arrives, so fast and slow seeds balance themselves.
 * Started through sweep-worker.mjs, which registers tsx first.
 */
const job = workerData as SweepJob;
const port = parentPort;
if (!port) throw new Error('sweep-worker.ts must run in a worker thread');
port.on('message', (msg: { seed: string }) => {
  port.postMessage(runSeed(job, msg.seed));
});
