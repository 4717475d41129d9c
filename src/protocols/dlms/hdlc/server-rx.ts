import type { HdlcAddress } from './address';
import { parseHdlcFrame } from './frame';
import { FrmrReason } from './frmr';
import type { HdlcServerInput } from './server-link';

/**
 * Turn one framer output into a server input and the address it is for. Frames whose
 * addresses cannot be read are nobody's and yield undefined (they are discarded); readable
 * frames we cannot accept become `invalid` inputs, answered FRMR W (or DM in NDM).
 */
export function serverInputFromRaw(
  raw: Uint8Array,
): { dest: HdlcAddress; input: HdlcServerInput } | undefined {
  const p = parseHdlcFrame(raw);
  if (p.frame) return { dest: p.frame.dest, input: { kind: 'frame', frame: p.frame } };
  if (!p.dest || !p.src || !p.error) return undefined;
  return {
    dest: p.dest,
    input: {
      kind: 'invalid',
      dest: p.dest,
      src: p.src,
      controlByte: p.controlByte,
      reasons: FrmrReason.W,
      error: p.error,
    },
  };
}
