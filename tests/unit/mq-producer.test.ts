/**
 * The producer's batch queue, driven directly with hand-made inputs: a backlog of tens of thousands of batches drains
 * in linear time (each answer costs O(1), where a scan of every held batch per answer made it quadratic), batches
 * leave in sequence order within the in-flight limit, timed-out ones come back after their backoff, and the low-water
 * mark each produce carries follows the answers.
 */
import { describe, expect, it } from 'vitest';
import { RngStreams } from '../../src/sim/kernel/rng.ts';
import type { Message, NodeContext } from '../../src/sim/kernel/types.ts';
import { mqProducer, type ProducerState } from '../../src/sim/mq/producer.ts';
import type { MqRpc } from '../../src/sim/mq/types.ts';

type Produce = Extract<MqRpc, { kind: 'produce' }>;

class Driver {
  now = 0;
  sent: { to: string; body: MqRpc }[] = [];
  notes: { name: string; data: unknown }[] = [];
  s: ProducerState;
  private readonly rng = new RngStreams('producer-test');
  private msgId = 1;

  constructor(config: Record<string, unknown>) {
    this.s = mqProducer.boot({ topic: 'orders', ...config }, {}, this.ctx());
    this.recv('ctl', { kind: 'lease', producerId: 'P1', nonce: this.s.nonce, leaders: { 'orders-0': 'b1' }, topicOf: { 'orders-0': 'orders' }, load: {}, until: 3_600_000_000 });
  }

  ctx(): NodeContext {
    return {
      id: 'prod1', now: this.now, peers: ['ctl', 'b1'], knows: () => true, rng: (n) => this.rng.stream(n),
      send: (to, _kind, body) => void this.sent.push({ to, body: body as MqRpc }),
      persist: () => {}, setTimer: () => {}, cancelTimer: () => {}, state: () => {},
      note: (name, data) => void this.notes.push({ name, data }), count: () => {}, observe: () => {}, bug: () => false,
    };
  }

  tick(at: number): void {
    this.now = at;
    mqProducer.step(this.s, { type: 'timer', name: 'tick' }, this.ctx());
  }

  recv(from: string, body: MqRpc): void {
    const msg: Message = { id: this.msgId++, from, to: 'prod1', kind: body.kind, body, size: 64, sentAt: this.now, deliverAt: this.now };
    mqProducer.step(this.s, { type: 'message', msg }, this.ctx());
  }

  /** Takes the produce requests sent since the last call. */
  takeProduces(): Produce[] {
    const out = this.sent.filter((x) => x.body.kind === 'produce').map((x) => x.body as Produce);
    this.sent = [];
    return out;
  }

  ok(p: Produce): void {
    this.recv('b1', { kind: 'produce-reply', batch: p.batch, partition: p.partition, ok: true, reason: '', leaderHint: 'b1', index: 1 });
  }
}

const seqOf = (p: Produce) => Number(p.batch.slice(p.batch.lastIndexOf(':') + 1));

describe('producer batch queue', () => {
  it('drains a backlog of 40,000 batches, one answer at a time, in linear time and in sequence order', () => {
    const n = 40_000;
    // One tick makes the whole backlog: 4,000,000 messages a second for a 10 ms linger, one message per batch.
    const d = new Driver({ ratePerS: 4_000_000, lingerMs: 10, batchMax: 1, stopAtMs: 15, maxInFlight: 5 });
    const t0 = performance.now();
    d.tick(10_000);
    expect(d.s.batchCount).toBe(n);
    let out = d.takeProduces();
    expect(out.map(seqOf)).toEqual([1, 2, 3, 4, 5]);
    const order: number[] = [];
    const lows: number[] = [];
    while (out.length > 0) {
      const p = out.shift()!;
      order.push(seqOf(p));
      lows.push(p.low);
      d.ok(p);
      out = [...out, ...d.takeProduces()];
    }
    const ms = performance.now() - t0;
    expect(order).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(d.s.batchCount).toBe(0);
    expect(d.s.counts.acked).toBe(n);
    expect(d.s.queues['orders-0'].low).toBe(n + 1);
    // Answered in order, so each batch's mark is its own number less the ones still in flight ahead of it.
    expect(lows.every((low, i) => low <= i + 1 && low >= i + 1 - 5)).toBe(true);
    // Quadratic draining (a scan of every held batch per answer) takes minutes here; linear takes well under a second.
    expect(ms).toBeLessThan(10_000);
  });

  it('times out unanswered batches, backs them off, resends them before fresh ones, and moves the mark past answers', () => {
    const d = new Driver({ ratePerS: 800, lingerMs: 10, batchMax: 1, stopAtMs: 15, maxInFlight: 2, requestTimeoutMs: 100, backoffBaseMs: 20, jitter: false });
    d.tick(10_000); // 8 batches
    const first = d.takeProduces();
    expect(first.map(seqOf)).toEqual([1, 2]);
    d.ok(first[1]); // 2 answered before 1: the mark waits for 1
    const next = d.takeProduces();
    expect(next.map((p) => [seqOf(p), p.low])).toEqual([[3, 1]]);
    d.tick(120_000); // 1 and 3 time out and back off 20 ms; the two free slots take fresh batches
    const after = d.takeProduces();
    expect(after.map(seqOf)).toEqual([4, 5]);
    expect(d.notes.filter((x) => x.name === 'retry').map((x) => (x.data as { batch: string }).batch)).toEqual(['P1:orders-0:1', 'P1:orders-0:3']);
    d.ok(after[0]);
    d.ok(after[1]);
    const more = d.takeProduces();
    expect(more.map(seqOf)).toEqual([6, 7]); // the retries' backoff (20 ms from 120 ms) has not run out yet
    d.ok(more[0]);
    d.ok(more[1]);
    const eight = d.takeProduces(); // the slot freed by 6 went to the last fresh batch
    expect(eight.map((p) => [seqOf(p), p.low])).toEqual([[8, 1]]);
    d.tick(150_000); // the backoff ran out: retries go before anything else, within the limit (8 is still out)
    const one = d.takeProduces();
    expect(one.map((p) => [seqOf(p), p.low])).toEqual([[1, 1]]);
    d.ok(one[0]); // 1 answered: the mark jumps over 2, 4, 5, 6 and 7, answered earlier
    const three = d.takeProduces();
    expect(three.map((p) => [seqOf(p), p.low])).toEqual([[3, 3]]);
    d.ok(three[0]);
    d.ok(eight[0]);
    expect(d.s.queues['orders-0'].low).toBe(9);
    expect(d.s.batchCount).toBe(0);
  });

  it('gives up after its retries and counts that as an answer for the mark', () => {
    const d = new Driver({ ratePerS: 200, lingerMs: 10, batchMax: 1, stopAtMs: 15, maxInFlight: 1, requestTimeoutMs: 50, backoffBaseMs: 10, jitter: false, retries: 1 });
    d.tick(10_000); // 2 batches
    expect(d.takeProduces().map(seqOf)).toEqual([1]);
    d.tick(70_000); // 1 times out: retry 1 after 10 ms; 2 goes now
    expect(d.takeProduces().map(seqOf)).toEqual([2]);
    d.tick(130_000); // 2 times out; 1 is due again
    expect(d.takeProduces().map(seqOf)).toEqual([1]);
    d.tick(190_000); // 1 times out a second time: given up; 2 resent
    expect(d.notes.filter((x) => x.name === 'gave-up').map((x) => (x.data as { batch: string }).batch)).toEqual(['P1:orders-0:1']);
    const two = d.takeProduces();
    expect(two.map((p) => [seqOf(p), p.low])).toEqual([[2, 2]]);
  });
});
