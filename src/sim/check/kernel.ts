import type { Checker } from '../kernel/checker.ts';

/**
 * Kernel invariants that hold for every scenario:
 * - a message is delivered or dropped only after it was sent, and at most once per copy the network made of it;
 * - a crashed node does nothing: it neither sends nor changes state until it boots again.
 */
interface DeliveryState {
  /** Message id → copies still owed a fate (deliver or drop). Entries leave when the count reaches zero. */
  owed: Record<number, number>;
}

export const deliveryAccounting: Checker<DeliveryState> = {
  name: 'net.delivery-accounting',
  description: 'Every message is delivered or dropped at most once per copy the network made, and never before it was sent.',
  init: () => ({ owed: {} }),
  onEvent(s, e) {
    switch (e.kind) {
      case 'msg.send':
        if (s.owed[e.id] !== undefined) return { message: `message ${e.id} sent twice`, evidence: { id: e.id, seq: e.seq } };
        s.owed[e.id] = 1;
        return null;
      case 'msg.dup':
        if (s.owed[e.id] === undefined) return { message: `message ${e.id} duplicated before it was sent`, evidence: { id: e.id, seq: e.seq } };
        s.owed[e.id]++;
        return null;
      case 'msg.deliver':
      case 'msg.drop': {
        const owed = s.owed[e.id];
        if (owed === undefined) {
          return { message: `message ${e.id} ${e.kind === 'msg.deliver' ? 'delivered' : 'dropped'} more often than sent and duplicated`, evidence: { id: e.id, seq: e.seq } };
        }
        if (owed === 1) delete s.owed[e.id];
        else s.owed[e.id] = owed - 1;
        return null;
      }
      default:
        return null;
    }
  },
};

export const crashedNodesAreSilent: Checker<null> = {
  name: 'node.crashed-silent',
  description: 'A crashed node sends nothing, receives nothing and changes no state until it restarts.',
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
