/**
 * Baud-rate characters of IEC 62056-21 (docs/dlms.md §1 "Baud characters"):
 *   mode C (and E): '0'..'6' = 300, 600, 1200, 2400, 4800, 9600, 19200 (P21 BAUDRATES_MODE_C)
 *   mode B:         'A'..'F' = 600 .. 19200 (ESPH PROTO_B_RANGE 'A'..'F')
 *   anything else:  mode A, no speed change
 */
export const MODE_C_BAUD: Readonly<Record<string, number>> = Object.freeze({
  '0': 300,
  '1': 600,
  '2': 1200,
  '3': 2400,
  '4': 4800,
  '5': 9600,
  '6': 19200,
});

export const MODE_B_BAUD: Readonly<Record<string, number>> = Object.freeze({
  A: 600,
  B: 1200,
  C: 2400,
  D: 4800,
  E: 9600,
  F: 19200,
});

export type Iec21BaudMode = { readonly mode: 'A' } | { readonly mode: 'B' | 'C'; readonly baudRate: number };

export function baudForChar(z: string): Iec21BaudMode {
  const c = MODE_C_BAUD[z];
  if (c !== undefined) return { mode: 'C', baudRate: c };
  const b = MODE_B_BAUD[z];
  if (b !== undefined) return { mode: 'B', baudRate: b };
  return { mode: 'A' };
}

/** The mode C character for a baud rate, or undefined if the table has none. */
export function modeCCharForBaud(baudRate: number): string | undefined {
  return Object.keys(MODE_C_BAUD).find((k) => MODE_C_BAUD[k] === baudRate);
}

/** Sign-on line: 300 Bd, 7 data bits, even parity, 1 stop bit (GXPY GXSettings; P21). */
export const SIGN_ON_LINE = Object.freeze({
  baudRate: 300,
  dataBits: 7 as const,
  parity: 'even' as const,
  stopBits: 1 as const,
});

/** After a mode E switch Gurux reopens the port as 8N1 at the new rate (GXPY initializeOpticalHead). */
export function hdlcLine(baudRate: number): { baudRate: number; dataBits: 8; parity: 'none'; stopBits: 1 } {
  return { baudRate, dataBits: 8, parity: 'none', stopBits: 1 };
}
