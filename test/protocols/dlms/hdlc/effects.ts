import type { HdlcEffect, HdlcFrame } from '../../../../src/protocols/dlms/hdlc';

/** One short line per effect, so transition tables read like a trace. */
export function frameText(f: HdlcFrame): string {
  const c = f.control;
  let s = `tx ${c.type}`;
  if (c.type === 'I') s += ` ns=${c.ns} nr=${c.nr}`;
  if (c.type === 'RR' || c.type === 'RNR') s += ` nr=${c.nr}`;
  if (c.pf) s += ' F';
  if (f.segmented) s += ' S';
  if (f.info.length) s += ` [${f.info.length}]`;
  return s;
}

export function effectText(e: HdlcEffect): string {
  switch (e.kind) {
    case 'transmit':
      return frameText(e.frame);
    case 'deliver':
      return `deliver ${e.apdu.toString('hex')}`;
    case 'connected':
      return `connected ${e.params.maxInfoTx}/${e.params.maxInfoRx}`;
    case 'disconnected':
      return `down ${e.reason}${e.error ? ' ' + e.error.codeName : ''}`;
    case 'sent':
      return `sent ${e.id}`;
    case 'failed':
      return `failed ${e.id} ${e.error.codeName}`;
    case 'startTimer':
      return `start ${e.timer}`;
    case 'stopTimer':
      return `stop ${e.timer}`;
    case 'protocolError':
      return `error ${e.error.codeName}`;
  }
}

export const texts = (effects: readonly HdlcEffect[]): string[] => effects.map(effectText);

export function transmitted(effects: readonly HdlcEffect[]): HdlcFrame[] {
  return effects.flatMap((e) => (e.kind === 'transmit' ? [e.frame] : []));
}
