import type { TraceEvent } from '../kernel/trace.ts';
import type { NodeId } from '../kernel/types.ts';
import type { TraceHeader } from '../tracefile.ts';
import { batched } from './chunks.ts';

/**
 * A ShiViz log (Beschastnikh et al., "Debugging distributed systems", CACM 2016; bestchai.bitbucket.io/shiviz).
 *
 * File layout, as ShiViz reads an uploaded file: line 1 is the parsing regular expression (we write ShiViz's own
 * default, so the file also parses when pasted), line 2 the multiple-executions delimiter (empty: one execution),
 * then two lines per event — the event's text, then `host {"host": n, …}`.
 *
 * Vector clocks follow Fidge/Mattern and ShiViz's legality rules:
 * - every event belongs to one host and increments that host's own entry by exactly 1; the first event of a host
 *   has own entry 1;
 * - a delivery merges (entrywise max) the clock its message carried — the sender's clock at the send — and then
 *   increments, so a receive is never earlier than its send;
 * - entries that are still 0 are left out, and a clock always holds its own host.
 *
 * Hosts are the nodes; events that belong to no node (partitions, heals, violations, the run's start, message drops,
 * which happen on the wire rather than at the receiver) are local events of a pseudo-host `world`. A drop does not
 * merge into anyone: nobody learned anything from a lost message.
 */

/** ShiViz's default parser: used when the first line of an uploaded file is empty. */
export const SHIVIZ_REGEX = '(?<event>.*)\\n(?<host>\\S*) (?<clock>{.*})';
export const WORLD_HOST = 'world';

export type VectorClock = Record<string, number>;

export function shivizChunks(header: TraceHeader, events: readonly TraceEvent[]): Generator<string, void, undefined> {
  return batched(shivizPieces(header, events));
}

function* shivizPieces(_header: TraceHeader, events: readonly TraceEvent[]): Generator<string> {
  yield SHIVIZ_REGEX + '\n\n';
  const clocks = new VectorClocks(events[0]?.kind === 'run.start' ? events[0].nodes : []);
  for (const e of events) {
    const { host, clock } = clocks.event(e);
    yield `${eventText(e)}\n${host} ${JSON.stringify(clock)}\n`;
  }
}

/** The clock bookkeeping, by itself so tests can drive it. */
export class VectorClocks {
  private readonly clocks = new Map<string, VectorClock>();
  /** The clock each message in flight carries (by message id); removed when its last copy lands. */
  private readonly carried = new Map<number, { clock: VectorClock; copies: number }>();
  readonly world: string;

  constructor(nodes: readonly NodeId[]) {
    // A node that happens to be called "world" keeps its name; the pseudo-host steps aside.
    let world = WORLD_HOST;
    while (nodes.includes(world)) world += '_';
    this.world = world;
  }

  /** Advances the clocks by one trace event and returns its host and (a copy of) its clock. */
  event(e: TraceEvent): { host: string; clock: VectorClock } {
    switch (e.kind) {
      case 'msg.send': {
        const clock = this.tick(e.from);
        this.carried.set(e.id, { clock, copies: 1 });
        return { host: e.from, clock };
      }
      case 'msg.dup': {
        const c = this.carried.get(e.id);
        if (c) c.copies++;
        return { host: e.from, clock: this.tick(e.from) };
      }
      case 'msg.deliver': {
        const sent = this.land(e.id);
        return { host: e.to, clock: this.tick(e.to, sent) };
      }
      case 'msg.drop':
        this.land(e.id);
        return { host: this.world, clock: this.tick(this.world) };
      default: {
        const host = 'node' in e ? e.node : this.world;
        return { host, clock: this.tick(host) };
      }
    }
  }

  private land(id: number): VectorClock | undefined {
    const c = this.carried.get(id);
    if (!c) return undefined;
    if (--c.copies === 0) this.carried.delete(id);
    return c.clock;
  }

  /** Merges `from` into the host's clock (entrywise max), then increments the host's own entry; returns a copy. */
  private tick(host: string, from?: VectorClock): VectorClock {
    let clock = this.clocks.get(host);
    if (!clock) {
      clock = {};
      this.clocks.set(host, clock);
    }
    if (from) for (const [h, n] of Object.entries(from)) if (h !== host && n > (clock[h] ?? 0)) clock[h] = n;
    clock[host] = (clock[host] ?? 0) + 1;
    return { ...clock };
  }
}

/** One line of text per event: never empty, never a line break, and never `word {` (which would read as a clock). */
export function eventText(e: TraceEvent): string {
  const at = `t=${e.t}us`;
  let what: string;
  switch (e.kind) {
    case 'run.start':
      what = `run start ${e.scenario} seed ${JSON.stringify(e.seed)} nodes ${e.nodes.join(',')}`;
      break;
    case 'msg.send':
      what = `send ${e.msg} #${e.id} to ${e.to} ${JSON.stringify(e.body) ?? ''}`;
      break;
    case 'msg.dup':
      what = `duplicate ${e.msg} #${e.id} to ${e.to}`;
      break;
    case 'msg.deliver':
      what = `receive ${e.msg} #${e.id} from ${e.from} (sent at ${e.sentAt}us)`;
      break;
    case 'msg.drop':
      what = `drop ${e.msg} #${e.id} ${e.from}->${e.to} (${e.reason})`;
      break;
    case 'timer.fire':
      what = `timer ${e.name}`;
      break;
    case 'node.boot':
      what = `boot incarnation ${e.incarnation}${e.recovered ? ' (recovered from disk)' : ''}`;
      break;
    case 'node.crash':
      what = `crash (lost ${e.lostWrites} unsynced writes)`;
      break;
    case 'node.pause':
      what = 'pause';
      break;
    case 'node.resume':
      what = `resume (${e.queued} queued)`;
      break;
    case 'node.state':
      what = `state ${e.key} = ${JSON.stringify(e.value) ?? 'undefined'}`;
      break;
    case 'node.note':
      what = `note ${e.name} ${e.data === undefined ? '' : JSON.stringify(e.data)}`;
      break;
    case 'net.partition':
      what = `partition ${e.shape}${e.oneWay ? ' one-way' : ''} ${JSON.stringify(e.groups)}`;
      break;
    case 'net.heal':
      what = 'heal';
      break;
    case 'net.link':
      what = `link ${e.from}->${e.to} ${JSON.stringify(e.set)}`;
      break;
    case 'fault':
      what = `fault (${e.source}) ${JSON.stringify(e.fault)}`;
      break;
    case 'run.end':
      what = 'run end';
      break;
    case 'check.violation':
      what = `VIOLATION ${e.checker}: ${e.message}`;
      break;
    default: {
      const never: never = e;
      what = String((never as TraceEvent).kind);
    }
  }
  return `${at} ${e.kind} ${what}`.replace(/[\r\n\u2028\u2029]+/g, ' ').trimEnd();
}
