/**
 * An interaction-test environment for the pure Raft replica, after etcd-raft's `rafttest.InteractionEnv` and its
 * datadriven scripts: a handful of replicas, an explicit in-memory network, a disk per node and a virtual clock, all
 * driven one command at a time. Nothing happens on its own — a message moves only when a command delivers it, a timer
 * fires only when a command fires it, time moves only when a command advances it — so a script pins down one exact
 * interleaving, and its golden output records what each replica did in answer.
 *
 * Script format (datadriven): a command line, then `----`, then the expected output up to a blank line. Lines starting
 * with `#` between cases are comments. Arguments are positional words or `key=value` / `key=(a,b)`.
 *
 * Commands (nodes are named n1…nN; `client` is the only client and is wired straight to every replica):
 *   add-nodes N [key=value …]       boot N replicas; keys are RaftConfig fields (preVote=true, appendEntriesMax=1 …)
 *   bug NAME [off]                  switch a teaching bug on (or off) for every replica
 *   campaign n1 | tick-election n1  fire n1's election timer now (on a leader: the CheckQuorum check)
 *   tick-heartbeat n1 | tick-apply n1  fire n1's heartbeat or apply timer now
 *   advance DURATION                move the virtual clock (250ms, 1s); fires nothing
 *   deliver-msgs [n2 …] [drop=n3] [from=n1] [type=MsgApp] [count=K]
 *                                   deliver (or drop) the messages queued when the command starts, oldest first;
 *                                   no recipient and no drop = every queued message
 *   stabilize [n1 …]                deliver to the listed nodes (default all) until no message is queued (bounded)
 *   msgs                            list queued messages without delivering them
 *   propose n1 KEY VALUE            the client asks n1 to write KEY=VALUE
 *   read n1 KEY strong|eventual     the client reads KEY from n1
 *   crash n1 [lose-unsynced]        n1 loses its memory, timers and queued inbox; its disk keeps synced writes
 *   restart n1                      boot n1 again from its disk
 *   partition n1 | n2 n3            cut every link between groups (unlisted nodes form one more group); drops in-flight
 *                                   messages across the cut and every later one
 *   heal                            remove every cut
 *   status | raft-state | log [n1 …] | kv [n1 …] | disk n1 | timers   show state
 *
 * Log compaction (§7): with `add-nodes N snapshotEntries=K` a replica snapshots at the start of a step once K applied
 * entries lie beyond its last snapshot; `MsgSnap Snap:T/I Bytes:OFFSET+SIZE/TOTAL [Done]` is an InstallSnapshot chunk,
 * `MsgSnapResp Snap:I Done Match:M | Offset:O` its answer; `log` shows `[1..N compacted]` before the kept entries.
 *
 * Output of a step (one message delivered or one timer fired): a header line, then what the replica asked for,
 * indented, in the order the world carries it out (etcd's Ready contract): disk writes, then state announcements and
 * notes, then messages. Notation: `T/I` is term T, index I; an entry is `T/I noop` or `T/I put k=v`; `MsgApp Log:T/I`
 * is prevLogTerm/prevLogIndex; `MsgVote Log:T/I` is lastLogTerm/lastLogIndex; `MsgAppResp Reject:I Hint:T/I` is the
 * rejected prevLogIndex and the conflict hint. Note data drops fields that are `false` or empty. The raft safety
 * checker (src/sim/raft/checkers.ts) sees every state change and note; a finding prints as `!! raft.safety: …`.
 */
import { assert } from '../../src/sim/kernel/assert.ts';
import { diskCrash, diskCreate, diskView, diskWrite, type DiskState } from '../../src/sim/kernel/disk.ts';
import { RngStreams } from '../../src/sim/kernel/rng.ts';
import { formatMicros, parseDuration, type Micros } from '../../src/sim/kernel/time.ts';
import type { TraceBody, TraceEvent } from '../../src/sim/kernel/trace.ts';
import type { DiskOp, Message, NodeContext, NodeId, NodeInput } from '../../src/sim/kernel/types.ts';
import { raftSafety } from '../../src/sim/raft/checkers.ts';
import { raftReplica, type RaftMemory } from '../../src/sim/raft/replica.ts';
import { RAFT_BUGS, RAFT_DEFAULTS, type Entry, type RaftConfig, type RaftMessage, type RaftSnapshot } from '../../src/sim/raft/types.ts';

// ---- the script format --------------------------------------------------------------------------------------------

export interface Arg {
  key: string;
  vals: string[];
}

/** One command of a script and where its expected output sits in the file (0-based line numbers). */
export interface Case {
  /** 1-based line of the command, for messages. */
  line: number;
  cmd: string;
  args: Arg[];
  expected: string;
  /** Lines [expectedFrom, expectedTo) of the file hold the expected output. */
  expectedFrom: number;
  expectedTo: number;
}

export const SCRIPT_CASES_MAX = 1_000;

/** Parses a datadriven script. Throws with `file:line` on a malformed case. */
export function parseScript(file: string, text: string): Case[] {
  const lines = text.split('\n');
  const cases: Case[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) {
      i++;
      continue;
    }
    const sep = lines.indexOf('----', i);
    assert(sep === i + 1, `${file}:${i + 1}: expected '----' after the command '${line}'`);
    let end = sep + 1;
    while (end < lines.length && lines[end].trim() !== '') end++;
    const { cmd, args } = parseCommand(line);
    cases.push({ line: i + 1, cmd, args, expected: lines.slice(sep + 1, end).join('\n'), expectedFrom: sep + 1, expectedTo: end });
    assert(cases.length <= SCRIPT_CASES_MAX, `${file}: more than ${SCRIPT_CASES_MAX} cases`);
    i = end;
  }
  return cases;
}

export function parseCommand(line: string): { cmd: string; args: Arg[] } {
  const words = line.split(/\s+/).filter((w) => w !== '');
  const args: Arg[] = words.slice(1).map((w) => {
    const eq = w.indexOf('=');
    if (eq < 0) return { key: w, vals: [] };
    const raw = w.slice(eq + 1);
    const vals = raw.startsWith('(') && raw.endsWith(')') ? raw.slice(1, -1).split(',').filter((v) => v !== '') : [raw];
    return { key: w.slice(0, eq), vals };
  });
  return { cmd: words[0], args };
}

/** The script text with each case's expected output replaced by `outputs[i]`. */
export function rewriteScript(text: string, cases: readonly Case[], outputs: readonly string[]): string {
  assert(cases.length === outputs.length, 'one output per case');
  const lines = text.split('\n');
  for (let k = cases.length - 1; k >= 0; k--) {
    const c = cases[k];
    const block = outputs[k] === '' ? [] : outputs[k].split('\n');
    assert(!block.some((l) => l.trim() === ''), `output of line ${c.line} has a blank line, which would end the case`);
    lines.splice(c.expectedFrom, c.expectedTo - c.expectedFrom, ...block);
  }
  return lines.join('\n');
}

// ---- the environment ----------------------------------------------------------------------------------------------

interface NodeRec {
  id: NodeId;
  memory: RaftMemory | null;
  disk: DiskState;
  /** Armed timers: name → virtual time it falls due. */
  timers: Map<string, Micros>;
}

interface Queued {
  seq: number;
  msg: Message;
}

interface StepEffects {
  writes: { op: DiskOp; sync: boolean }[];
  events: TraceBody[];
  timers: [string, Micros | null][];
  sends: { to: NodeId; kind: string; body: RaftMessage }[];
}

export const CLIENT: NodeId = 'client';
export const NODES_MAX = 9;
export const STABILIZE_ROUNDS_MAX = 200;
export const STABILIZE_MESSAGES_MAX = 20_000;

const MSG_NAMES: Record<string, string> = {
  vote: 'MsgVote', 'vote-reply': 'MsgVoteResp', append: 'MsgApp', 'append-reply': 'MsgAppResp', 'install-snapshot': 'MsgSnap', 'install-snapshot-reply': 'MsgSnapResp',
};

export class InteractionEnv {
  private t: Micros = 0;
  private readonly nodes = new Map<NodeId, NodeRec>();
  private readonly config: Partial<RaftConfig> = {};
  /** Outgoing messages, one FIFO queue per directed link `from->to`; `seq` orders them across links. */
  private readonly links = new Map<string, Queued[]>();
  private nextSeq = 1;
  private readonly cuts = new Set<string>();
  private readonly bugs = new Set<string>();
  private readonly rng: RngStreams;
  private readonly checker = raftSafety.init();
  private eventSeq = 0;
  private clientSeq = 0;
  private out: string[] = [];

  constructor(readonly seed: string) {
    this.rng = new RngStreams(seed);
  }

  /** Runs one command and returns its output (never empty: `ok` when a command printed nothing). */
  run(cmd: string, args: Arg[]): string {
    this.out = [];
    this.dispatch(cmd, args);
    assert(this.out.every((l) => l.trim() !== ''), `${cmd} printed a blank line`);
    return this.out.length === 0 ? 'ok' : this.out.join('\n');
  }

  private dispatch(cmd: string, args: Arg[]): void {
    const pos = args.filter((a) => a.vals.length === 0).map((a) => a.key);
    switch (cmd) {
      case 'add-nodes': return this.addNodes(Number(pos[0]), args.filter((a) => a.vals.length > 0));
      case 'bug': return this.setBug(pos[0], pos[1] !== 'off');
      case 'campaign':
        assert(this.up(pos[0]).role !== 'leader', `${pos[0]} is already leader; use tick-election for CheckQuorum`);
        return this.fire(pos[0], 'election');
      case 'tick-election': return this.fire(pos[0], 'election');
      case 'tick-heartbeat': return this.fire(pos[0], 'heartbeat');
      case 'tick-apply': return this.fire(pos[0], 'apply');
      case 'advance': return this.advance(pos[0]);
      case 'deliver-msgs': return this.deliverCommand(args);
      case 'stabilize': return this.stabilize(pos.map((p) => this.node(p).id));
      case 'msgs': return this.listQueued();
      case 'propose': return this.client(pos[0], { kind: 'propose', id: `p${++this.clientSeq}`, key: pos[1], value: pos[2] });
      case 'read':
        assert(pos[2] === 'strong' || pos[2] === 'eventual', 'read n1 KEY strong|eventual');
        return this.client(pos[0], { kind: 'read', id: `r${++this.clientSeq}`, key: pos[1], mode: pos[2] });
      case 'crash': return this.crash(pos[0], pos[1] === 'lose-unsynced');
      case 'restart': return this.restart(pos[0]);
      case 'partition': return this.partition(pos);
      case 'heal': return this.heal();
      case 'status': return this.status();
      case 'raft-state': return this.raftState();
      case 'log': return this.showLogs(pos);
      case 'kv': return this.showKv(pos);
      case 'disk': return this.showDisk(pos[0]);
      case 'timers': return this.showTimers();
      default: throw new Error(`unknown command '${cmd}'`);
    }
  }

  // ---- nodes, steps and effects ----------------------------------------------------------------------------------

  private addNodes(count: number, settings: Arg[]): void {
    assert(this.nodes.size === 0, 'add-nodes runs once per script');
    assert(Number.isInteger(count) && count >= 1 && count <= NODES_MAX, `add-nodes needs 1..${NODES_MAX} nodes`);
    for (const s of settings) {
      const key = s.key as keyof RaftConfig;
      assert(key in RAFT_DEFAULTS, `unknown raft config key ${s.key}`);
      const isFlag = typeof RAFT_DEFAULTS[key] === 'boolean';
      const v = s.vals[0];
      assert(isFlag ? v === 'true' || v === 'false' : Number.isFinite(Number(v)), `bad value ${s.key}=${v}`);
      (this.config as Record<string, unknown>)[key] = isFlag ? v === 'true' : Number(v);
    }
    for (let k = 1; k <= count; k++) this.nodes.set(`n${k}`, { id: `n${k}`, memory: null, disk: diskCreate(), timers: new Map() });
    for (const id of this.nodes.keys()) this.boot(id);
  }

  private setBug(name: string, on: boolean): void {
    assert(name in RAFT_BUGS, `unknown bug ${name}; known: ${Object.keys(RAFT_BUGS).join(', ')}`);
    if (on) this.bugs.add(name);
    else this.bugs.delete(name);
    this.out.push(`bugs: ${[...this.bugs].join(' ') || 'none'}`);
  }

  private boot(id: NodeId): void {
    const n = this.node(id);
    assert(n.memory === null, `${id} is already up`);
    const hard = diskView(n.disk).hard as { term: number; votedFor: NodeId | null } | undefined;
    const log = (diskView(n.disk).log as Entry[] | undefined) ?? [];
    const base = (diskView(n.disk).logBase as { index: number } | undefined)?.index ?? 0;
    const snap = diskView(n.disk).snapshot as RaftSnapshot | undefined;
    const snapText = snap ? ` snapshot=${snap.term}/${snap.index}` : '';
    const recovered = hard || log.length > 0 || snap ? ` (disk: term=${hard?.term ?? 0} vote=${hard?.votedFor ?? '-'} last=${base + log.length}${snapText})` : '';
    this.out.push(`${id} boot${recovered}`);
    this.check({ kind: 'node.boot', node: id, incarnation: 0, recovered: recovered !== '' }, '  ');
    const fx = emptyEffects();
    n.memory = raftReplica.boot({ ...this.config, group: [...this.nodes.keys()] }, diskView(n.disk), this.ctx(n, fx));
    this.perform(n, fx, '  ');
  }

  private step(id: NodeId, input: NodeInput, indent: string): void {
    const n = this.node(id);
    assert(n.memory !== null, `${id} is down`);
    const fx = emptyEffects();
    raftReplica.step(n.memory, input, this.ctx(n, fx));
    this.perform(n, fx, indent);
  }

  private ctx(n: NodeRec, fx: StepEffects): NodeContext {
    const peers = [...this.nodes.keys()].filter((p) => p !== n.id);
    return {
      id: n.id,
      now: this.t,
      peers,
      knows: (node) => peers.includes(node),
      rng: (name) => this.rng.stream(`node:${n.id}:${name}`),
      send: (to, kind, body) => void fx.sends.push({ to, kind, body: body as RaftMessage }),
      persist: (op, sync) => void fx.writes.push({ op, sync }),
      setTimer: (name, after) => void fx.timers.push([name, after]),
      cancelTimer: (name) => void fx.timers.push([name, null]),
      state: (key, value) => void fx.events.push({ kind: 'node.state', node: n.id, key, value }),
      note: (name, data) => void fx.events.push({ kind: 'node.note', node: n.id, name, data }),
      count: () => {},
      observe: () => {},
      bug: (name) => this.bugs.has(name),
    };
  }

  /** Carries out one step's effects in the world's order: disk, then events, then timers, then messages. */
  private perform(n: NodeRec, fx: StepEffects, indent: string): void {
    for (const w of fx.writes) {
      diskWrite(n.disk, w.op, w.sync);
      this.out.push(`${indent}persist ${formatDiskOp(w.op)}${w.sync ? ' (sync)' : ' (nosync)'}`);
    }
    let states: string[] = [];
    const flush = () => {
      if (states.length > 0) this.out.push(`${indent}state ${states.join(' ')}`);
      states = [];
    };
    for (const e of fx.events) {
      if (e.kind === 'node.state') states.push(formatState(e.key, e.value));
      else if (e.kind === 'node.note') {
        flush();
        this.out.push(`${indent}note ${e.name}${formatData(e.data)}`);
      }
    }
    flush();
    for (const e of fx.events) this.check(e, indent);
    for (const [name, after] of fx.timers) {
      if (after === null) n.timers.delete(name);
      else n.timers.set(name, this.t + after);
    }
    for (const s of fx.sends) this.send(n.id, s.to, s.kind, s.body, indent);
  }

  private send(from: NodeId, to: NodeId, kind: string, body: RaftMessage, indent: string): void {
    const msg: Message = { id: this.nextSeq, from, to, kind, body, size: 64, sentAt: this.t, deliverAt: this.t };
    const line = `${indent}${formatMessage(msg)}`;
    if (to === CLIENT) return void this.out.push(line);
    assert(this.nodes.has(to), `${from} sent ${kind} to unknown node ${to}`);
    if (this.isCut(from, to)) return void this.out.push(`${line} (dropped: partitioned)`);
    if (this.node(to).memory === null) return void this.out.push(`${line} (dropped: ${to} is down)`);
    this.out.push(line);
    const key = `${from}->${to}`;
    const q = this.links.get(key) ?? [];
    q.push({ seq: this.nextSeq++, msg });
    this.links.set(key, q);
  }

  /** Feeds one replica event to the safety checker, as the world does after every event. */
  private check(body: TraceBody, indent: string): void {
    const e = { t: this.t, seq: this.eventSeq++, ...body } as TraceEvent;
    const view = {
      t: this.t,
      status: (id: NodeId) => (this.node(id).memory ? ('up' as const) : ('crashed' as const)),
      memory: (id: NodeId) => this.node(id).memory,
      nodeIds: () => [...this.nodes.keys()],
    };
    const finding = raftSafety.onEvent(this.checker, e, view);
    if (finding) this.out.push(`${indent}!! ${raftSafety.name}: ${finding.message}`);
  }

  // ---- timers and time -------------------------------------------------------------------------------------------

  /** Fires a timer now, whatever its deadline: the script decides when a timeout happens. */
  private fire(id: NodeId, name: string): void {
    const n = this.node(id);
    assert(n.memory !== null, `${id} is down`);
    assert(n.timers.has(name), `${id} has no ${name} timer armed`);
    n.timers.delete(name);
    this.out.push(`${id} timer ${name}`);
    this.step(id, { type: 'timer', name }, '  ');
  }

  private advance(text: string): void {
    const d = parseDuration(text ?? '');
    assert(d !== null && d > 0, `advance needs a duration, got ${text}`);
    this.t += d;
    this.out.push(`t=${formatMicros(this.t)}`);
  }

  // ---- the network -----------------------------------------------------------------------------------------------

  private queued(): Queued[] {
    return [...this.links.values()].flat().sort((a, b) => a.seq - b.seq);
  }

  private unqueue(q: Queued): void {
    const key = `${q.msg.from}->${q.msg.to}`;
    const list = this.links.get(key)!;
    const at = list.indexOf(q);
    assert(at >= 0, `message ${q.seq} is not queued on ${key}`);
    list.splice(at, 1);
    if (list.length === 0) this.links.delete(key);
  }

  private deliverCommand(args: Arg[]): void {
    const to = args.filter((a) => a.vals.length === 0).map((a) => this.node(a.key).id);
    const drop = args.filter((a) => a.key === 'drop').flatMap((a) => a.vals.map((v) => this.node(v).id));
    const from = args.find((a) => a.key === 'from')?.vals;
    const type = args.find((a) => a.key === 'type')?.vals[0];
    const countArg = args.find((a) => a.key === 'count')?.vals[0];
    const count = countArg === undefined ? Infinity : Number(countArg);
    assert(count >= 1, 'count must be at least 1');
    const known = new Set(['drop', 'from', 'type', 'count']);
    for (const a of args) assert(a.vals.length === 0 || known.has(a.key), `deliver-msgs has no option ${a.key}`);
    assert(!to.some((t) => drop.includes(t)), 'a node cannot be both delivered to and dropped for');
    const all = to.length === 0 && drop.length === 0;
    const picked = this.queued()
      .filter((q) => all || to.includes(q.msg.to) || drop.includes(q.msg.to))
      .filter((q) => from === undefined || from.includes(q.msg.from))
      .filter((q) => type === undefined || MSG_NAMES[q.msg.kind] === type || formatKind(q.msg) === type || q.msg.kind === type)
      .slice(0, count);
    if (picked.length === 0) return void this.out.push('no messages');
    for (const q of picked) {
      this.unqueue(q);
      if (drop.includes(q.msg.to)) this.out.push(`dropped: ${formatMessage(q.msg)}`);
      else this.deliver(q.msg, '');
    }
  }

  private deliver(msg: Message, indent: string): void {
    this.out.push(`${indent}${formatMessage(msg)}`);
    this.step(msg.to, { type: 'message', msg }, `${indent}  `);
  }

  /** etcd's stabilize: in node order, each node receives everything queued for it, until nothing is queued. */
  private stabilize(only: NodeId[]): void {
    const targets = only.length > 0 ? only : [...this.nodes.keys()];
    let delivered = 0;
    for (let round = 0; ; round++) {
      assert(round < STABILIZE_ROUNDS_MAX, `no quiescence after ${STABILIZE_ROUNDS_MAX} rounds`);
      let moved = false;
      for (const id of targets) {
        const mine = this.queued().filter((q) => q.msg.to === id);
        if (mine.length === 0) continue;
        moved = true;
        this.out.push(`> ${id} receiving messages`);
        for (const q of mine) {
          this.unqueue(q);
          this.deliver(q.msg, '  ');
          assert(++delivered <= STABILIZE_MESSAGES_MAX, `no quiescence after ${STABILIZE_MESSAGES_MAX} messages`);
        }
      }
      if (!moved) break;
    }
    if (delivered === 0) this.out.push('no messages');
  }

  private listQueued(): void {
    const all = this.queued();
    if (all.length === 0) return void this.out.push('no messages');
    for (const q of all) this.out.push(formatMessage(q.msg));
  }

  private partition(words: string[]): void {
    const groups: NodeId[][] = [[]];
    for (const w of words) {
      if (w === '|') groups.push([]);
      else groups[groups.length - 1].push(this.node(w).id);
    }
    const listed = new Set(groups.flat());
    const rest = [...this.nodes.keys()].filter((id) => !listed.has(id));
    if (rest.length > 0) groups.push(rest);
    assert(groups.length >= 2 && groups.every((g) => g.length > 0), 'partition needs at least two non-empty groups: n1 | n2 n3');
    const cut: string[] = [];
    for (let a = 0; a < groups.length; a++) {
      for (let b = a + 1; b < groups.length; b++) {
        for (const x of groups[a]) for (const y of groups[b]) if (this.cutLink(x, y)) cut.push(`${x}-${y}`);
      }
    }
    this.out.push(`cut: ${cut.join(' ') || 'nothing new'}`);
    for (const q of this.queued()) {
      if (!this.isCut(q.msg.from, q.msg.to)) continue;
      this.unqueue(q);
      this.out.push(`dropped: ${formatMessage(q.msg)}`);
    }
  }

  private cutLink(a: NodeId, b: NodeId): boolean {
    const key = [a, b].sort().join('|');
    if (this.cuts.has(key)) return false;
    this.cuts.add(key);
    return true;
  }

  private isCut(a: NodeId, b: NodeId): boolean {
    return this.cuts.has([a, b].sort().join('|'));
  }

  private heal(): void {
    this.out.push(this.cuts.size === 0 ? 'nothing to heal' : `healed: ${[...this.cuts].map((c) => c.replace('|', '-')).join(' ')}`);
    this.cuts.clear();
  }

  // ---- clients and faults ----------------------------------------------------------------------------------------

  private client(id: NodeId, body: RaftMessage): void {
    assert(body.kind === 'propose' || body.kind === 'read', 'the client only proposes and reads');
    const msg: Message = { id: 0, from: CLIENT, to: id, kind: body.kind, body, size: 64, sentAt: this.t, deliverAt: this.t };
    if (this.node(id).memory === null) return void this.out.push(`${formatMessage(msg)} (dropped: ${id} is down)`);
    this.deliver(msg, '');
  }

  private crash(id: NodeId, loseUnsynced: boolean): void {
    const n = this.node(id);
    assert(n.memory !== null, `${id} is already down`);
    const pending = n.disk.pending.length;
    const lost = diskCrash(n.disk, loseUnsynced);
    n.memory = null;
    n.timers.clear();
    this.out.push(`${id} crashed (unsynced writes: ${pending} pending, ${lost} lost)`);
    for (const q of this.queued()) {
      if (q.msg.to !== id) continue;
      this.unqueue(q);
      this.out.push(`dropped: ${formatMessage(q.msg)}`);
    }
  }

  private restart(id: NodeId): void {
    assert(this.node(id).memory === null, `${id} is up; crash it first`);
    this.boot(id);
  }

  // ---- inspection ------------------------------------------------------------------------------------------------

  private status(): void {
    for (const n of this.nodes.values()) {
      const m = n.memory;
      if (!m) {
        this.out.push(`${n.id} down`);
        continue;
      }
      const last = m.log[0].index + m.log.length - 1;
      const snap = m.snapshot ? ` snapshot=${m.snapshot.term}/${m.snapshot.index} logFrom=${m.log[0].index + 1}` : '';
      this.out.push(`${n.id} ${m.role} term=${m.term} vote=${m.votedFor ?? '-'} lead=${m.leader ?? '-'} last=${last} commit=${m.commitIndex} applied=${m.lastApplied}${snap}`);
      if (m.role !== 'leader') continue;
      const progress = m.group.filter((p) => p !== m.id).map((p) => `${p}:match=${m.matchIndex[p]},next=${m.nextIndex[p]}`);
      this.out.push(`  progress ${progress.join(' ')}`);
    }
  }

  private raftState(): void {
    for (const n of this.nodes.values()) {
      const m = n.memory;
      this.out.push(m ? `${n.id}: ${m.role} term=${m.term} lead=${m.leader ?? '-'}` : `${n.id}: down`);
    }
  }

  private showLogs(ids: NodeId[]): void {
    for (const id of ids.length > 0 ? ids : [...this.nodes.keys()]) {
      const n = this.node(id);
      if (!n.memory) {
        const log = (diskView(n.disk).log as Entry[] | undefined) ?? [];
        this.out.push(`${id} (down, on disk): ${log.map(formatEntry).join(', ') || 'empty'}`);
        continue;
      }
      const m = n.memory;
      const compacted = m.log[0].index > 0 ? `[1..${m.log[0].index} compacted] ` : '';
      this.out.push(`${id}: ${compacted}${m.log.slice(1).map(formatEntry).join(', ') || 'empty'} | commit=${m.commitIndex} applied=${m.lastApplied}`);
    }
  }

  private showKv(ids: NodeId[]): void {
    for (const id of ids.length > 0 ? ids : [...this.nodes.keys()]) {
      const m = this.node(id).memory;
      const kv = m ? Object.entries(m.kv).map(([k, v]) => `${k}=${v}`).join(' ') || 'empty' : 'down';
      this.out.push(`${id}: ${kv}`);
    }
  }

  private showDisk(id: NodeId): void {
    const n = this.node(id);
    const data = diskView(n.disk);
    const hard = data.hard as { term: number; votedFor: NodeId | null } | undefined;
    const log = (data.log as Entry[] | undefined) ?? [];
    const base = (data.logBase as { index: number; term: number } | undefined) ?? null;
    const snap = data.snapshot as RaftSnapshot | undefined;
    const compacted = base && base.index > 0 ? `[1..${base.index} compacted] ` : '';
    const snapText = snap ? `; snapshot ${snap.term}/${snap.index} ${snap.bytes}B` : '';
    this.out.push(`${id} disk: hard ${hard ? `term=${hard.term} vote=${hard.votedFor ?? '-'}` : 'none'}; log ${compacted}${log.map(formatEntry).join(', ') || 'empty'}${snapText}; ${n.disk.pending.length} unsynced`);
  }

  private showTimers(): void {
    for (const n of this.nodes.values()) {
      if (!n.memory) continue;
      const list = [...n.timers.entries()].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
      const shown = list.map(([name, at]) => `${name}@${formatMicros(at)}${at <= this.t ? '(due)' : ''}`);
      this.out.push(`${n.id}: ${shown.join(' ') || 'none'}`);
    }
  }

  private node(id: NodeId | undefined): NodeRec {
    const n = id === undefined ? undefined : this.nodes.get(id);
    assert(n !== undefined, `unknown node ${id}; nodes are ${[...this.nodes.keys()].join(' ') || 'not added yet'}`);
    return n;
  }

  private up(id: NodeId): RaftMemory {
    const m = this.node(id).memory;
    assert(m !== null, `${id} is down`);
    return m;
  }
}

function emptyEffects(): StepEffects {
  return { writes: [], events: [], timers: [], sends: [] };
}

// ---- formatting ---------------------------------------------------------------------------------------------------

export function formatEntry(e: Entry): string {
  return e.kind === 'put' ? `${e.term}/${e.index} put ${e.key}=${e.value}` : `${e.term}/${e.index} ${e.kind}`;
}

function formatKind(msg: Message): string {
  const b = msg.body as RaftMessage;
  if ((b.kind === 'vote' || b.kind === 'vote-reply') && b.pre) return b.kind === 'vote' ? 'MsgPreVote' : 'MsgPreVoteResp';
  return MSG_NAMES[b.kind] ?? b.kind;
}

export function formatMessage(msg: Message): string {
  const b = msg.body as RaftMessage;
  const head = `${msg.from}->${msg.to} ${formatKind(msg)}`;
  switch (b.kind) {
    case 'vote':
      return `${head} Term:${b.term} Log:${b.lastLogTerm}/${b.lastLogIndex}`;
    case 'vote-reply':
      return `${head} Term:${b.term} ${b.granted ? 'Granted' : `Rejected (${b.reason})`}`;
    case 'append': {
      const entries = b.entries.length > 0 ? ` Entries:[${b.entries.map(formatEntry).join(', ')}]` : '';
      return `${head} Term:${b.term} Log:${b.prevLogTerm}/${b.prevLogIndex} Commit:${b.leaderCommit}${entries}${b.readSeq > 0 ? ` Read:${b.readSeq}` : ''}`;
    }
    case 'append-reply': {
      const result = b.success ? `Match:${b.matchIndex}` : `Reject:${b.rejectedIndex} Hint:${b.hintTerm}/${b.hintIndex}`;
      return `${head} Term:${b.term} ${result}${b.readSeq > 0 ? ` Read:${b.readSeq}` : ''}`;
    }
    case 'install-snapshot':
      return `${head} Term:${b.term} Snap:${b.lastTerm}/${b.index} Bytes:${b.offset}+${b.size}/${b.bytes}${b.done ? ' Done' : ''}`;
    case 'install-snapshot-reply':
      return `${head} Term:${b.term} Snap:${b.index} ${b.done ? `Done Match:${b.matchIndex}` : `Offset:${b.offset}`}`;
    case 'propose':
      return `${msg.from}->${msg.to} MsgProp ${b.id} ${b.key}=${b.value}`;
    case 'propose-reply':
      return `${msg.from}->${msg.to} MsgPropResp ${b.id} ${b.ok ? `ok index=${b.index}${b.reason ? ` (${b.reason})` : ''}` : `failed (${b.reason}) hint=${b.leaderHint ?? '-'}`}`;
    case 'read':
      return `${msg.from}->${msg.to} MsgRead ${b.id} ${b.key} ${b.mode}`;
    case 'read-reply':
      return `${msg.from}->${msg.to} MsgReadResp ${b.id} ${b.ok ? `ok value=${b.value ?? '(none)'} applied=${b.appliedIndex}` : `failed (${b.reason}) hint=${b.leaderHint ?? '-'}`}`;
  }
}

function formatDiskOp(op: DiskOp): string {
  switch (op.op) {
    case 'put': {
      if (op.key === 'snapshot') {
        const snap = op.value as RaftSnapshot;
        return `put snapshot ${snap.term}/${snap.index} kv=${JSON.stringify((snap.data as { kv?: unknown }).kv ?? null)} ${snap.bytes}B`;
      }
      if (op.key !== 'hard') return `put ${op.key} ${JSON.stringify(op.value)}`;
      const h = op.value as { term: number; votedFor: NodeId | null };
      return `hard term=${h.term} vote=${h.votedFor ?? '-'}`;
    }
    case 'append':
      return `append ${op.key} [${(op.items as Entry[]).map(formatEntry).join(', ')}]${op.bytes === 0 ? ' (rewrite)' : ''}`;
    case 'truncate':
      return `truncate ${op.key} to ${op.length}`;
    case 'delete':
      return `delete ${op.key}`;
  }
}

function formatState(key: string, value: unknown): string {
  if (key === 'wal') {
    const w = value as { last: number; commit: number; applied: number };
    return `last=${w.last} commit=${w.commit} applied=${w.applied}`;
  }
  if (key === 'snapshot') {
    const s = value as { index: number; term: number; logFrom: number };
    return `snapshot=${s.term}/${s.index} logFrom=${s.logFrom}`;
  }
  return `${key}=${value ?? '-'}`;
}

function formatData(data: unknown): string {
  if (data === undefined || data === null) return '';
  if (typeof data !== 'object') return ` ${String(data)}`;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(data as Record<string, unknown>)) {
    if (v === false || v === '' || v === undefined) continue;
    const text = typeof v === 'string' && /\s/.test(v) ? `(${v})` : String(v);
    parts.push(`${k}=${text}`);
  }
  return parts.length > 0 ? ` ${parts.join(' ')}` : '';
}

/** Runs a whole script and returns each case's actual output. Errors carry the command's `file:line`. */
export function runScript(file: string, name: string, cases: readonly Case[]): string[] {
  const env = new InteractionEnv(name);
  return cases.map((c) => {
    try {
      return env.run(c.cmd, c.args);
    } catch (err) {
      const e = err as Error;
      e.message = `${file}:${c.line}: ${c.cmd}: ${e.message}`;
      throw e;
    }
  });
}
