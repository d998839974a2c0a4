import type { Lab } from '../sim/lab.ts';

/**
 * What the views need from a Lab, as asynchronous calls. In the app it is the comlink proxy of the worker's Lab; in
 * stories and component tests it is `localPort(new Lab())`, which runs the same class on the main thread and copies
 * results the way postMessage would, so views see the same plain data either way.
 */
export type LabMethod =
  | 'list'
  | 'load'
  | 'step'
  | 'play'
  | 'pause'
  | 'setSpeed'
  | 'advance'
  | 'seek'
  | 'inject'
  | 'snapshot'
  | 'events'
  | 'exportTrace'
  | 'importTrace'
  | 'inspect'
  | 'logEntries'
  | 'openTrace'
  | 'openedView'
  | 'openedEvents'
  | 'exportOpenedTrace'
  | 'closeTrace'
  | 'setFocus'
  | 'setGuided';

export type LabPort = {
  [K in LabMethod]: (...args: Parameters<Lab[K]>) => Promise<ReturnType<Lab[K]>>;
};

const METHODS: readonly LabMethod[] = [
  'list', 'load', 'step', 'play', 'pause', 'setSpeed', 'advance', 'seek', 'inject', 'snapshot', 'events', 'exportTrace', 'importTrace', 'inspect', 'logEntries',
  'openTrace', 'openedView', 'openedEvents', 'exportOpenedTrace', 'closeTrace', 'setFocus',
  'setGuided',
];

/** Wraps a Lab on this thread as a port: every call is asynchronous and its result is a structured clone. */
export function localPort(lab: Lab): LabPort {
  const port: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const name of METHODS) {
    const method = lab[name] as (...args: unknown[]) => unknown;
    port[name] = async (...args: unknown[]) => {
      const result = method.apply(lab, structuredClone(args));
      return result === undefined ? undefined : structuredClone(result);
    };
  }
  return port as unknown as LabPort;
}
