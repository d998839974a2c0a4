import { fail } from './assert.ts';
import type { Rng } from './rng.ts';
import type { Micros } from './time.ts';
import type { TraceEvent } from './trace.ts';
import type { DiskOp, NodeContext, NodeId } from './types.ts';
import type { NodeRecord, World } from './world.ts';

/**
 * Collects what one node asks for while it handles one input; `apply` hands it to the world in the order
 * disk → events → timers → messages. On a host with a disk rate the step's messages leave only when its synced
 * writes are done (`occupyDisk`). The context given to the node only records. Steps never nest, so one buffer and one
 * context serve every node: `reset` points them at the node about to step. The hot path allocates no closures, and a
 * world of ten thousand nodes holds one context rather than ten thousand (their closures and arrays, scattered over
 * the heap, cost a cache miss per step and a tenth of the heap at the APM bench's scale).
 */
export class EffectBuffer {
  // Each kind of effect in parallel arrays with a count: reused from step to step without truncating an array (a slow
  // path in V8) or allocating a record per effect.
  readonly writes: { op: DiskOp; sync: boolean }[] = [];
  readonly events: (TraceEvent | null)[] = [];
  nEvents = 0;
  /** Timer requests in order; a later request for the same name wins, as the world applies them in order. */
  readonly timerNames: string[] = [];
  readonly timerAfters: (Micros | null)[] = [];
  nTimers = 0;
  readonly sendTos: NodeId[] = [];
  readonly sendKinds: string[] = [];
  readonly sendBodies: unknown[] = [];
  readonly sendSizes: number[] = [];
  readonly sendAfters: number[] = [];
  nSends = 0;
  readonly countNames: string[] = [];
  readonly countValues: number[] = [];
  nCounts = 0;
  readonly sampleNames: string[] = [];
  readonly sampleValues: number[] = [];
  nSamples = 0;
  readonly ctx: NodeContext;
  /** The node stepping now; null before the first `reset`. */
  private n: NodeRecord | null = null;

  constructor(private readonly world: World) {
    // Per node, built on first use: a world of ten thousand agents would otherwise hold ten thousand lists of ten
    // thousand ids, and its random streams by name.
    const peersOf = new Map<NodeId, readonly NodeId[]>();
    const rngsOf = new Map<NodeId, Map<string, Rng>>();
    const bugs = world.spec.bugs;
    const id = (): NodeId => {
      if (this.n === null) fail('a node context used outside a step');
      return this.n.id;
    };
    this.ctx = {
      get id() {
        return id();
      },
      get now() {
        return world.t;
      },
      get peers() {
        const self = id();
        let peers = peersOf.get(self);
        if (!peers) peersOf.set(self, (peers = world.nodeIds.filter((p) => p !== self)));
        return peers;
      },
      knows: (other) => other !== id() && world.hasNode(other),
      rng: (name) => {
        const self = id();
        let rngs = rngsOf.get(self);
        if (!rngs) rngsOf.set(self, (rngs = new Map()));
        let r = rngs.get(name);
        if (!r) rngs.set(name, (r = world.rng.stream(`node:${self}:${name}`)));
        return r;
      },
      send: (to, kind, body, size = 64, after = 0) => {
        const i = this.nSends++;
        this.sendTos[i] = to;
        this.sendKinds[i] = kind;
        this.sendBodies[i] = body;
        this.sendSizes[i] = size;
        this.sendAfters[i] = after;
      },
      persist: (op, sync) => void this.writes.push({ op, sync }),
      setTimer: (name, after) => this.timer(name, after),
      cancelTimer: (name) => this.timer(name, null),
      state: (key, value) => void (this.events[this.nEvents++] = { t: world.t, seq: 0, kind: 'node.state', node: id(), key, value }),
      note: (name, data) =>
        void (this.events[this.nEvents++] = data === undefined ? { t: world.t, seq: 0, kind: 'node.note', node: id(), name } : { t: world.t, seq: 0, kind: 'node.note', node: id(), name, data }),
      count: (metric, k = 1) => {
        const i = this.nCounts++;
        this.countNames[i] = metric;
        this.countValues[i] = k;
      },
      observe: (metric, value) => {
        const i = this.nSamples++;
        this.sampleNames[i] = metric;
        this.sampleValues[i] = value;
      },
      bug: (name) => bugs.includes(name),
    };
  }

  private timer(name: string, after: Micros | null): void {
    const i = this.nTimers++;
    this.timerNames[i] = name;
    this.timerAfters[i] = after;
  }

  /** Empties the buffer and points it (and its context) at `n`, the node about to step. */
  reset(n: NodeRecord): this {
    this.n = n;
    // Truncating an array is a slow path in V8; few steps persist anything.
    if (this.writes.length > 0) this.writes.length = 0;
    this.nEvents = 0;
    this.nTimers = 0;
    this.nSends = 0;
    this.nCounts = 0;
    this.nSamples = 0;
    return this;
  }

  apply(): void {
    if (this.n === null) fail('effects applied before any step');
    this.world._perform(this.n, this);
  }
}
