import { dec8 } from './link-types';
import type { HdlcClientState } from './client-state';
import type { HdlcServerState } from './server-link';

/**
 * Consistency rules every reachable state of the two link state machines obeys. The property
 * tests check them after every step; they are exported so that integrators' own fuzzers can too.
 */
/** Server (server-link.ts). */
export function serverInvariantViolations(s: HdlcServerState): string[] {
  if (s.mode === 'NDM') return Object.keys(s).length === 1 ? [] : ['NDM carries extra fields'];
  const v: string[] = [];
  const seq = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 7;
  if (!seq(s.vs) || !seq(s.vr)) v.push('sequence variable out of 0..7');
  if (s.rx.reduce((n, b) => n + b.length, 0) !== s.rxLength) v.push('rxLength does not match rx');
  for (const o of s.tx) if (o.next < 0 || o.next >= o.segments.length) v.push(`tx ${o.id} next out of range`);
  for (const o of s.tx)
    for (const seg of o.segments) if (seg.length > s.params.maxInfoTx) v.push('segment > max-info-TX');
  if (s.unacked && (s.unacked.control.type !== 'I' || s.unacked.control.ns !== dec8(s.vs)))
    v.push('unacked is not V(S)-1');
  if (s.awaitingReply && s.rx.length > 0) v.push('awaiting a reply while reassembling');
  if (s.frmr && (s.tx.length > 0 || s.awaitingReply)) v.push('FRMR condition with pending output');
  if (s.params.windowRx !== 1 || s.params.windowTx !== 1) v.push('window other than 1');
  return v;
}

/** Client (client-link.ts). */
export function clientInvariantViolations(s: HdlcClientState): string[] {
  if (s.mode !== 'NRM') return [];
  const v: string[] = [];
  const seq = (n: number): boolean => Number.isInteger(n) && n >= 0 && n <= 7;
  if (!seq(s.vs) || !seq(s.vr)) v.push('sequence variable out of 0..7');
  if (s.rx.reduce((n, b) => n + b.length, 0) !== s.rxLength) v.push('rxLength does not match rx');
  s.tx.forEach((o, i) => {
    if (o.next < 0 || o.next > o.segments.length) v.push(`tx ${o.id} next out of range`);
    if (i > 0 && o.next !== 0) v.push('only the head may be part-sent');
  });
  if ((s.waiting === 'ack' || s.waiting === 'data') !== (s.last !== undefined))
    v.push('waiting without a frame to repeat');
  if (s.waiting === 'ack' && s.last?.control.type !== 'I') v.push('waiting for an ack of a non-I frame');
  return v;
}
