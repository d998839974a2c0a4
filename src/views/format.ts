import type { TraceEvent, TraceKind } from '../sim/kernel/trace.ts';
import { formatMicros, type Micros } from '../sim/kernel/time.ts';

/**
 * Small pure helpers the views share: one-line event descriptions, speed steps, and the teaching text behind the
 * tooltips. Nothing here touches the DOM, so the helpers are tested without a browser.
 */

export { formatMicros };

/** Playback speeds on a 1-2-5 log scale from 0.01× to 1000× (the Lab's SPEED_MIN..SPEED_MAX). */
export const SPEEDS: readonly number[] = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];

export function formatSpeed(speed: number): string {
  return `${speed}×`;
}

/** The index in SPEEDS closest to `speed` on a log scale. */
export function speedIndex(speed: number): number {
  let best = 0;
  SPEEDS.forEach((s, i) => {
    if (Math.abs(Math.log(s / speed)) < Math.abs(Math.log(SPEEDS[best] / speed))) best = i;
  });
  return best;
}

function short(value: unknown, max = 60): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function groups(gs: string[][]): string {
  return gs.map((g) => `{${g.join(' ')}}`).join(' | ');
}

/** A one-line, human description of an event; the log shows it beside t, kind and node. */
export function describeEvent(e: TraceEvent): string {
  switch (e.kind) {
    case 'run.start':
      return `run of ${e.scenario} with seed "${e.seed}" on ${e.nodes.length} nodes`;
    case 'msg.send':
      return `${e.msg} ${e.from}→${e.to} #${e.id}, due at ${formatMicros(e.deliverAt)}`;
    case 'msg.deliver':
      return `${e.msg} ${e.from}→${e.to} #${e.id} after ${formatMicros(e.t - e.sentAt)}`;
    case 'msg.drop':
      return `${e.msg} ${e.from}→${e.to} #${e.id} dropped (${e.reason})`;
    case 'msg.dup':
      return `${e.msg} ${e.from}→${e.to} #${e.id} duplicated (copy ${e.copy}), due at ${formatMicros(e.deliverAt)}`;
    case 'timer.fire':
      return `timer "${e.name}" fired`;
    case 'node.boot':
      return e.recovered ? `restarted (incarnation ${e.incarnation}), recovering from disk` : `booted (incarnation ${e.incarnation})`;
    case 'node.crash':
      return e.lostWrites > 0 ? `crashed; ${e.lostWrites} unsynced write${e.lostWrites === 1 ? '' : 's'} lost` : 'crashed; no unsynced writes lost';
    case 'node.pause':
      return 'paused';
    case 'node.resume':
      return `resumed with ${e.queued} queued input${e.queued === 1 ? '' : 's'}`;
    case 'node.state':
      return `${e.key} = ${short(e.value)}`;
    case 'node.note':
      return e.data === undefined ? e.name : `${e.name} ${short(e.data)}`;
    case 'net.partition':
      return `partition (${e.shape}${e.oneWay ? ', one-way' : ''}): ${groups(e.groups)}`;
    case 'net.heal':
      return 'partition healed; every link carries messages again';
    case 'net.link':
      return `link ${e.from}→${e.to} set ${short(e.set)}`;
    case 'fault':
      return `${e.source} fault: ${faultText(e.fault as unknown as Record<string, unknown>)}`;
    case 'check.violation':
      return `${e.checker}: ${e.message}`;
    case 'run.end':
      return 'the run reached its end; end-of-run checks ran';
    default:
      return unreachable(e);
  }
}

function unreachable(e: never): string {
  return `unknown event ${(e as { kind: string }).kind}`;
}

function faultText(f: Record<string, unknown>): string {
  const parts = [String(f.kind)];
  if (typeof f.node === 'string') parts.push(f.node);
  if (typeof f.shape === 'string') parts.push(`(${f.shape})`);
  if (f.loseUnsynced === true) parts.push('losing unsynced writes');
  return parts.join(' ');
}

/** The node column of the log: the subject of a node event, the receiver of a delivery, the sender of a send. */
export function eventNodeLabel(e: TraceEvent): string {
  if ('node' in e) return e.node;
  if (e.kind === 'msg.deliver' || e.kind === 'msg.drop') return e.to;
  if (e.kind === 'msg.send' || e.kind === 'msg.dup') return e.from;
  return '';
}

/** Kinds grouped for colour: messages, timers, node lifecycle, node state, network, faults, checker verdicts. */
export type KindFamily = 'msg' | 'timer' | 'life' | 'state' | 'net' | 'fault' | 'check' | 'run';

export function kindFamily(kind: TraceKind): KindFamily {
  if (kind === 'check.violation') return 'check';
  if (kind === 'fault') return 'fault';
  if (kind === 'run.start' || kind === 'run.end') return 'run';
  if (kind.startsWith('msg.')) return 'msg';
  if (kind.startsWith('net.')) return 'net';
  if (kind === 'timer.fire') return 'timer';
  if (kind === 'node.state' || kind === 'node.note') return 'state';
  return 'life';
}

/** What each event kind means, for the filter chips' tooltips. */
export const KIND_HELP: Record<TraceKind, string> = {
  'run.start': 'The run began: scenario, seed and nodes.',
  'run.end': 'The run reached its duration; checks that need the whole run (a write acknowledged but never delivered) ran here.',
  'msg.send': 'A node put a message on the network; it carries the virtual time it is due to arrive.',
  'msg.deliver': 'A message reached its receiver, which handled it at once.',
  'msg.drop': 'The network lost a message: random loss, a partition, or a receiver that was down or paused.',
  'msg.dup': 'The network duplicated a message; the copy arrives separately.',
  'timer.fire': 'A node timer went off (a heartbeat, an election timeout…).',
  'node.boot': 'A node started, or restarted and recovered its state from disk.',
  'node.crash': 'A node lost power: memory gone, synced disk kept, unsynced writes maybe lost.',
  'node.pause': 'A node was frozen (like a long GC pause or SIGSTOP); it keeps its memory.',
  'node.resume': 'A paused node runs again and handles what queued up meanwhile.',
  'node.state': 'A node announced a change of visible state: role, term, epoch, suspicion…',
  'node.note': 'A node-specific event worth noticing.',
  'net.partition': 'The network split into groups; messages between groups are dropped.',
  'net.heal': 'The partition ended.',
  'net.link': 'A link changed its latency, loss, duplication or bandwidth.',
  fault: 'A fault was applied: by the scenario, by you, or by a random schedule.',
  'check.violation': 'An invariant checker found a broken rule. This is a bug in the system under test.',
};

/** Teaching text for terms the views show. */
export const TERMS = {
  traceHash:
    'Trace hash: a stable hash over every event in order. The same scenario + seed + your actions give the same hash, in the browser and in Node — that is what "deterministic" means here.',
  eventCount: 'Events recorded so far: every delivery, drop, timer, state change, fault and checker verdict is one event.',
  seed: 'Seed: the one string every random choice (latency jitter, loss, timer offsets) is derived from. Same seed, same run.',
  virtualTime:
    'Virtual time: the simulated clock, in microseconds since the run began. It only moves when the simulation processes an event.',
  speed: 'Speed: how much virtual time passes per wall-clock second while playing (1× = real time).',
  step: 'Step: process the next scheduled event (a delivery, a timer, a fault). One step can record several events, e.g. a timer that sends four pings.',
  up: 'Up: the node is running and handling messages and timers.',
  crashed: 'Crashed: the node lost power. Its memory is gone; its disk keeps synced writes. It does nothing until restarted.',
  paused: 'Paused: the node is frozen (like a long GC pause). It keeps its memory and handles queued input when resumed.',
  partition: 'Partition: the network is split; a dashed red link is cut, and messages across it are dropped when they arrive.',
  doomed: 'Doomed: this message is already lost (random loss, or its link is cut) and will be dropped when it arrives.',
  inFlight: 'In flight: sent but not yet delivered. Each dot moves from sender to receiver between its send and delivery times.',
  synced: 'Synced keys: on-disk data that survived an fsync, so a crash cannot lose it.',
  pendingWrites: 'Pending writes: written but not yet fsynced. A power-cut crash can lose them.',
  timers: 'Timers: named timeouts the node has set and that have not fired yet.',
  incarnation: 'Incarnation: how many times the node has crashed. Timers from an earlier incarnation never fire.',
  checker: 'Invariant checker: a rule checked after every event. Red means the system under test broke it.',
  expectation: 'Expectation: an outcome this scenario promises. Pending until the run has seen enough to decide.',
  narration: 'Narration: what to look for. Steps light up as the run reaches them.',
} as const;

/** Formats microseconds with a fixed number of decimals for a stable-width clock display. */
export function formatClock(t: Micros): string {
  return `${(t / 1_000_000).toFixed(3)} s`;
}
