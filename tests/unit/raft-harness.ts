/**
 * Drives one pure Raft replica with hand-made inputs and captures the effects it asks for (etcd-raft's style of
 * testing `Step`): no world, no network — each test says what arrives and asserts exactly what the replica sends,
 * persists and announces.
 */
import { RngStreams } from '../../src/sim/kernel/rng.ts';
import type { DiskOp, Message, NodeContext, NodeId } from '../../src/sim/kernel/types.ts';
import { raftReplica, type RaftMemory } from '../../src/sim/raft/replica.ts';
import type { Entry, RaftConfig, RaftMessage } from '../../src/sim/raft/types.ts';

export interface Effects {
  sent: { to: NodeId; kind: string; body: RaftMessage }[];
  persisted: { op: DiskOp; sync: boolean }[];
  timers: Record<string, number | null>;
  states: Record<string, unknown>;
  notes: { name: string; data: unknown }[];
}

export class Replica {
  m!: RaftMemory;
  now = 0;
  fx: Effects = fresh();
  private msgId = 1;

  constructor(
    readonly id: NodeId,
    readonly group: NodeId[],
    private readonly cfg: Partial<RaftConfig> = {},
    private readonly bugs: string[] = [],
    disk: Record<string, unknown> = {},
  ) {
    this.m = raftReplica.boot({ group, ...cfg }, disk, this.ctx());
  }

  private ctx(): NodeContext {
    const fx = (this.fx = fresh());
    const rng = new RngStreams(`test:${this.id}`);
    return {
      id: this.id,
      now: this.now,
      peers: this.group.filter((p) => p !== this.id),
      knows: (node) => node !== this.id && this.group.includes(node),
      rng: (name) => rng.stream(name),
      send: (to, kind, body) => void fx.sent.push({ to, kind, body: body as RaftMessage }),
      persist: (op, sync) => void fx.persisted.push({ op, sync }),
      setTimer: (name, after) => void (fx.timers[name] = after),
      cancelTimer: (name) => void (fx.timers[name] = null),
      state: (key, value) => void (fx.states[key] = value),
      note: (name, data) => void fx.notes.push({ name, data }),
      count: () => {},
      observe: () => {},
      bug: (name) => this.bugs.includes(name),
    };
  }

  /** A fresh context at the current time, for calling the replica's exported helpers directly. */
  ctxForTest(): NodeContext {
    return this.ctx();
  }

  timer(name: string, at = this.now): Effects {
    this.now = at;
    raftReplica.step(this.m, { type: 'timer', name }, this.ctx());
    return this.fx;
  }

  recv(from: NodeId, body: RaftMessage, at = this.now): Effects {
    this.now = at;
    const msg: Message = { id: this.msgId++, from, to: this.id, kind: body.kind, body, size: 64, sentAt: at, deliverAt: at };
    raftReplica.step(this.m, { type: 'message', msg }, this.ctx());
    return this.fx;
  }

  sentTo(to: NodeId): RaftMessage[] {
    return this.fx.sent.filter((s) => s.to === to).map((s) => s.body);
  }
}

function fresh(): Effects {
  return { sent: [], persisted: [], timers: {}, states: {}, notes: [] };
}

export function entry(index: number, term: number, id?: string): Entry {
  return Object.freeze(id ? { index, term, kind: 'put' as const, id, key: 'k', value: id, at: 0 } : { index, term, kind: 'noop' as const, at: 0 });
}

/** A disk holding `terms` as a log (entry i has term terms[i-1]), with the given hard state. */
export function diskWith(terms: number[], term: number, votedFor: NodeId | null = null): Record<string, unknown> {
  return { hard: { term, votedFor }, log: terms.map((t, i) => entry(i + 1, t, `e${i + 1}`)) };
}

export const vote = (term: number, lastLogIndex: number, lastLogTerm: number, pre = false): RaftMessage => ({ kind: 'vote', term, lastLogIndex, lastLogTerm, pre });
export const voteReply = (term: number, granted: boolean, pre = false): RaftMessage => ({ kind: 'vote-reply', term, granted, pre, reason: '' });
export const append = (term: number, prevLogIndex: number, prevLogTerm: number, entries: Entry[], leaderCommit: number): RaftMessage => ({ kind: 'append', term, prevLogIndex, prevLogTerm, entries, leaderCommit, readSeq: 0 });
export const appendOk = (term: number, matchIndex: number): RaftMessage => ({ kind: 'append-reply', term, success: true, matchIndex, rejectedIndex: 0, hintIndex: 0, hintTerm: 0, readSeq: 0 });
