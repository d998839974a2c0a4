// Bootstrap for sweep worker threads. On Node 20 a worker started with `execArgv: ['--import', 'tsx']` fails, and
// loader hooks registered in the main thread do not reach workers, so each worker registers tsx itself and only then
// imports the TypeScript worker module.
import { register } from 'tsx/esm/api';

register();
await import('./sweep-worker.ts');
