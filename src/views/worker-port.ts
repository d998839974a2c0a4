import * as Comlink from 'comlink';
import type { Lab } from '../sim/lab.ts';
import type { LabPort } from './port.ts';

/** Starts the simulation worker and returns its Lab as a port. Vite bundles the worker from this URL pattern. */
export function createWorkerPort(): { port: LabPort; terminate: () => void } {
  const worker = new Worker(new URL('../sim/worker.ts', import.meta.url), { type: 'module' });
  const remote = Comlink.wrap<Lab>(worker);
  return { port: remote as unknown as LabPort, terminate: () => worker.terminate() };
}
