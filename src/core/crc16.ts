/**
 * CRC-16/X-25 (poly 0x1021 reflected = 0x8408, init 0xFFFF, reflected in and out,
 * xorout 0xFFFF). Both ANSI C12.18 packets and DLMS HDLC frames use it, sent low byte first.
 * Check value for "123456789" is 0x906E (docs/c1218.md §1.3, docs/dlms.md §2).
 */
const table = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x8408 : c >>> 1;
    t[i] = c;
  }
  return t;
})();

export function crc16x25(data: Uint8Array, start = 0, end = data.length): number {
  let crc = 0xffff;
  for (let i = start; i < end; i++) crc = (crc >>> 8) ^ table[(crc ^ data[i]!) & 0xff]!;
  return (crc ^ 0xffff) & 0xffff;
}
