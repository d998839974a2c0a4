import { fail } from './assert.ts';
import type { DiskOp, DiskView } from './types.ts';

/**
 * A node's simulated disk. Writes land in `pending` until a synced write flushes them in order; a crash either
 * flushes them too (the OS got them out) or, when the fault says so, loses them (power cut before fsync). `data` is
 * what survives and what `boot` reads. Values are cloned on write, so a node mutating its memory afterwards can never
 * change what is "on disk"; appended items and frozen values are expected to be immutable (log entries, snapshots) and
 * are stored by reference.
 */
export interface DiskState {
  data: Record<string, unknown>;
  pending: DiskOp[];
  writes: number;
  syncs: number;
}

export const DISK_PENDING_MAX = 100_000;
/** Bytes a `put`, or each item of an `append`, counts for the disk bandwidth model when the op gives no `bytes` hint. */
export const DISK_ITEM_BYTES_DEFAULT = 64;
/** Largest size hint one op may carry (1 GiB): a bound, so a typo cannot stall a host's disk for hours. */
export const DISK_OP_BYTES_MAX = 1024 * 1024 * 1024;

/** The size of one write for the host's disk bandwidth model: its `bytes` hint, or the defaults above. */
export function diskOpBytes(op: DiskOp): number {
  if (op.bytes !== undefined) {
    if (!(Number.isInteger(op.bytes) && op.bytes >= 0 && op.bytes <= DISK_OP_BYTES_MAX)) fail(`disk op bytes must be an integer within 0..${DISK_OP_BYTES_MAX}, got ${op.bytes}`);
    return op.bytes;
  }
  switch (op.op) {
    case 'put':
      return DISK_ITEM_BYTES_DEFAULT;
    case 'append':
      return DISK_ITEM_BYTES_DEFAULT * op.items.length;
    case 'truncate':
    case 'delete':
      return 0;
  }
}

export function diskCreate(): DiskState {
  return { data: {}, pending: [], writes: 0, syncs: 0 };
}

export function diskWrite(disk: DiskState, op: DiskOp, sync: boolean): void {
  if (!(disk.pending.length < DISK_PENDING_MAX)) fail(`disk has ${DISK_PENDING_MAX} unsynced writes: a node never syncs`);
  // A frozen value is immutable (the convention cloneShared relies on: a Raft snapshot, shared with the replica and
  // its InstallSnapshot messages), so it is stored by reference like appended items.
  disk.pending.push(op.op === 'put' && !Object.isFrozen(op.value) ? { ...op, value: structuredClone(op.value) } : op);
  disk.writes++;
  if (sync) diskSync(disk);
}

export function diskSync(disk: DiskState): void {
  for (const op of disk.pending) applyOp(disk.data, op);
  disk.pending = [];
  disk.syncs++;
}

/** Handles a crash; returns how many unsynced writes were lost. */
export function diskCrash(disk: DiskState, loseUnsynced: boolean): number {
  const lost = loseUnsynced ? disk.pending.length : 0;
  if (loseUnsynced) disk.pending = [];
  else diskSync(disk);
  return lost;
}

export function diskView(disk: DiskState): DiskView {
  return disk.data;
}

function applyOp(data: Record<string, unknown>, op: DiskOp): void {
  switch (op.op) {
    case 'put':
      data[op.key] = op.value;
      return;
    case 'delete':
      delete data[op.key];
      return;
    case 'append': {
      const list = (data[op.key] ??= []) as unknown[];
      if (!(Array.isArray(list))) fail(`disk key ${op.key} is not a list`);
      for (const item of op.items) list.push(item);
      return;
    }
    case 'truncate': {
      const list = data[op.key];
      if (!(Array.isArray(list))) fail(`disk key ${op.key} is not a list`);
      if (!(op.length >= 0 && op.length <= list.length)) fail(`truncate ${op.key} to ${op.length} of ${list.length}`);
      list.length = op.length;
      return;
    }
  }
}
