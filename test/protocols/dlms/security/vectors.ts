import { fromHex } from '../../../../src/core/bytes';

/**
 * Shared test vectors, docs/dlms.md §7 "GB Table 40 vectors" and "HLS5 flow" (GB Table 43),
 * found in U9N tests/test_security.py and JDLMS CipheringTest / GmacTest, all marked [V].
 */
export const GB = {
  /** Global unicast encryption key 00 01 .. 0F. */
  ek: fromHex('000102030405060708090A0B0C0D0E0F'),
  /** Authentication key D0 D1 .. DF. */
  ak: fromHex('D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF'),
  /** Server system title "MMM" + 0x00BC614E. */
  serverSystemTitle: fromHex('4D4D4D0000BC614E'),
  /** Client system title of Table 43. */
  clientSystemTitle: fromHex('4D4D4D0000000001'),
  ic: 0x01234567,
  /** GET-Request-Normal, clock 0-0:1.0.0.255 attribute 2. */
  getClockTime: fromHex(
    [
      'C0', // get-request
      '01', // get-request-normal
      '00', // invoke-id-and-priority
      '0008', // class 8 clock
      '0000010000FF', // 0-0:1.0.0.255
      '02', // attribute 2 time
      '00', // no selective access
    ].join(''),
  ),
};
