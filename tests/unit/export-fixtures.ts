/**
 * Runs shared by the export tests: a stress run (loss, duplication, a pause, a crash and restart, a partition and a
 * heal, messages left in flight at the end) and a plain ping-pong run, each exported once per module.
 */
import { findScenario } from '../../src/scenarios/index.ts';
import type { TraceEvent } from '../../src/sim/kernel/trace.ts';
import { Lab } from '../../src/sim/lab.ts';
import type { TraceHeader } from '../../src/sim/tracefile.ts';

export function stressScenario(): Record<string, unknown> {
  const s = structuredClone(findScenario('raft-leader-crash')) as unknown as Record<string, any>;
  s.id = 'export-stress';
  s.duration = '3s';
  s.topology.link = { ...s.topology.link, loss: 0.05, dup: 0.05 };
  s.faults = [
    { at: '0.6s', kind: 'pause', node: 'r3' },
    { at: '0.9s', kind: 'resume', node: 'r3' },
    { at: '1.2s', kind: 'crash', node: '@leader', loseUnsynced: true },
    { at: '1.8s', kind: 'restart', node: '@crashed' },
    { at: '2.2s', kind: 'partition', shape: 'halves' },
    { at: '2.7s', kind: 'heal' },
  ];
  s.expect = [];
  s.narration = [];
  return s;
}

export interface Run {
  lab: Lab;
  header: TraceHeader;
  events: TraceEvent[];
}

/** A stress run stopped mid-flight (so some messages and role spans are still open at the end). */
export function stressRun(seed = 'exp'): Run {
  const lab = new Lab();
  lab.load(stressScenario(), { seed });
  lab.runToEnd(2_950_123);
  lab.inject({ kind: 'crash', node: 'r2' });
  return { lab, header: lab.header(), events: allEvents(lab) };
}

export function pingRun(seed = 'exp'): Run {
  const lab = new Lab();
  lab.load('ping-pong', { seed });
  lab.runToEnd();
  return { lab, header: lab.header(), events: allEvents(lab) };
}

/** Every event of the lab's run (Lab.events pages at 10,000), as the file has them. */
export function allEvents(lab: Lab): TraceEvent[] {
  return (JSON.parse(lab.exportTrace('json')) as { events: TraceEvent[] }).events;
}
