import type { Checker } from '../kernel/checker.ts';

/**
 * Kernel invariants that hold for every scenario:
 * - a message is delivered or dropped only after it was sent, and at most once per copy the network made of it;
 * - a crashed node does nothing: it neither sends nor changes state until it boots again.
 */
interface DeliveryState {
  /**
   * Copies still owed a fate (deliver or drop) per message id, for ids from `base` on: `owed[id - base]`. Message ids
   * are sequential, so a window that slides past settled ids stays as small as what is in flight.
   */
  base: number;
  owed: number[];
}

export const deliveryAccounting: Checker<DeliveryState> = {
  name: 'net.delivery-accounting',
  description: 'Every message is delivered or dropped at most once per copy the network made, and never before it was sent.',
  kinds: ['msg.send', 'msg.dup', 'msg.deliver', 'msg.drop'],
  init: () => ({ base: 1, owed: [] }),
  onEvent(s, e) {
    if (e.kind !== 'msg.send' && e.kind !== 'msg.dup' && e.kind !== 'msg.deliver' && e.kind !== 'msg.drop') return null;
    const i = e.id - s.base;
    const owed = i >= 0 && i < s.owed.length ? s.owed[i] : undefined;
    switch (e.kind) {
      case 'msg.send':
        if (i < s.owed.length) return { message: `message ${e.id} sent twice or out of order`, evidence: { id: e.id, seq: e.seq } };
        while (s.owed.length < i) s.owed.push(0); // ids never sent (none today) count as settled
        s.owed.push(1);
        return null;
      case 'msg.dup':
        if (!owed) return { message: `message ${e.id} duplicated before it was sent`, evidence: { id: e.id, seq: e.seq } };
        s.owed[i]++;
        return null;
      default: {
        if (!owed) {
          return { message: `message ${e.id} ${e.kind === 'msg.deliver' ? 'delivered' : 'dropped'} more often than sent and duplicated`, evidence: { id: e.id, seq: e.seq } };
        }
        s.owed[i]--;
        let settled = 0;
        while (settled < s.owed.length && s.owed[settled] === 0) settled++;
        if (settled > 0) {
          s.owed.splice(0, settled);
          s.base += settled;
        }
        return null;
      }
    }
  },
};

export const crashedNodesAreSilent: Checker<null> = {
  name: 'node.crashed-silent',
  description: 'A crashed node sends nothing, receives nothing and changes no state until it restarts.',
  kinds: ['msg.send', 'msg.deliver', 'node.state', 'node.note', 'timer.fire'],
  init: () => null,
  onEvent(_s, e, view) {
    let node: string | undefined;
    if (e.kind === 'msg.send') node = e.from;
    else if (e.kind === 'msg.deliver') node = e.to;
    else if (e.kind === 'node.state' || e.kind === 'node.note' || e.kind === 'timer.fire') node = e.node;
    if (node !== undefined && view.status(node) === 'crashed') {
      return { message: `crashed node ${node} was active (${e.kind})`, evidence: { seq: e.seq, node } };
    }
    return null;
  },
};

export const KERNEL_CHECKERS: readonly Checker[] = [deliveryAccounting as Checker, crashedNodesAreSilent as Checker];
