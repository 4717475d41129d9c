/**
 * Byte vectors from docs/c1218.md, one field per line. [O] = observed in the captured session
 * of termineter (T) against a test responder (§6); "computed" = computed in §1.3.
 */

/** §1.3 [O] / §6: Ident request as sent by T. */
// prettier-ignore
export const IDENT_PACKET = [
  0xee, // STP
  0x00, // identity
  0x00, // ctrl: single packet, toggle 0
  0x00, // seq-nbr: no packets follow
  0x00, 0x01, // length 1, big-endian
  0x20, // PSEM Ident
  0x13, 0x10, // CRC 0x1013, low byte first
];

/** §1.3 computed / §6 last line: Terminate. */
// prettier-ignore
export const TERMINATE_PACKET = [
  0xee, // STP
  0x00, // identity
  0x00, // ctrl
  0x00, // seq
  0x00, 0x01, // length 1
  0x21, // PSEM Terminate
  0x9a, 0x01, // CRC 0x019A, low byte first
];

/** §1.3 computed: bare OK response. */
// prettier-ignore
export const OK_RESPONSE_PACKET = [
  0xee, // STP
  0x00, // identity
  0x00, // ctrl
  0x00, // seq
  0x00, 0x01, // length 1
  0x00, // response code ok
  0x11, 0x31, // CRC 0x3111, low byte first
];

/** §6: M>C Ident response: ok, C12.18 v1.0, end of feature list. */
// prettier-ignore
export const IDENT_RESPONSE_PACKET = [
  0xee, // STP
  0x00, // identity
  0x00, // ctrl
  0x00, // seq
  0x00, 0x05, // length 5
  0x00, // ok
  0x00, // std: 0 = C12.18
  0x01, // version 1
  0x00, // revision 0
  0x00, // end of feature list
  0xc6, 0xb5, // CRC
];

/** §6: Negotiate 512-byte packets, 2 packets, 9600 baud (toggle 1). */
// prettier-ignore
export const NEGOTIATE_PACKET = [
  0xee, // STP
  0x00, // identity
  0x20, // ctrl: toggle 1
  0x00, // seq
  0x00, 0x05, // length 5
  0x61, // Negotiate with one baud code
  0x02, 0x00, // packet size 512
  0x02, // max packets 2
  0x06, // baud code 6 = 9600
  0x24, 0xdd, // CRC
];

/** §6: Logon user id 0, user "0000" padded with 0x20. */
// prettier-ignore
export const LOGON_PACKET = [
  0xee, // STP
  0x00, // identity
  0x00, // ctrl (toggle 0)
  0x00, // seq
  0x00, 0x0d, // length 13
  0x50, // Logon
  0x00, 0x00, // user id 0
  0x30, 0x30, 0x30, 0x30, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, // "0000" + 6 x 0x20
  0x76, 0x35, // CRC
];

/** §6: Security with 20 zero bytes (T pads with 0x00), toggle 1. */
// prettier-ignore
export const SECURITY_PACKET = [
  0xee, // STP
  0x00, // identity
  0x20, // ctrl (toggle 1)
  0x00, // seq
  0x00, 0x15, // length 21
  0x51, // Security
  ...new Array<number>(20).fill(0x00), // password: 20 x 0x00
  0x27, 0xa2, // CRC
];

/** §6: full read of MT1 (2049 = 0x0801). */
// prettier-ignore
export const READ_MT1_PACKET = [
  0xee, // STP
  0x00, // identity
  0x00, // ctrl
  0x00, // seq
  0x00, 0x03, // length 3
  0x30, // full read
  0x08, 0x01, // table id 0x0801 = MT1
  0x95, 0xc3, // CRC
];

/** §6: start of the multi-packet response to that read (the rest is elided in the doc). */
// prettier-ignore
export const MULTI_RESPONSE_HEAD = [
  0xee, // STP
  0x00, // identity
  0xe0, // ctrl: multi + first + toggle
  0x08, // seq: 8 packets follow
  0x00, 0x40, // length 64
  0x00, // ok
  0x02, 0x00, // count 512 (table data bytes across all packets)
  0x00, 0x01, // first table bytes
];

/** §6: partial write of ST5 at offset 0 (T uses 0x4F even at offset 0). */
// prettier-ignore
export const PARTIAL_WRITE_ST5_PACKET = [
  0xee, // STP
  0x00, // identity
  0x00, // ctrl
  0x00, // seq
  0x00, 0x0e, // length 14
  0x4f, // partial write, offset
  0x00, 0x05, // table ST5
  0x00, 0x00, 0x00, // offset 0
  0x00, 0x05, // count 5
  0x41, 0x42, 0x43, 0x44, 0x45, // "ABCDE"
  0xb1, // checksum: two's complement of the byte sum (§2)
  0xf4, 0x3d, // CRC
];

/** §6 / §3: T run_procedure 3 with parameter 00: full write of ST7. */
// prettier-ignore
export const ST7_SP3_PACKET = [
  0xee, // STP
  0x00, // identity
  0x00, // ctrl
  0x00, // seq
  0x00, 0x0a, // length 10
  0x40, // full write
  0x00, 0x07, // table ST7
  0x00, 0x04, // count 4
  0x03, 0x00, // TABLE_IDB_BFLD little-endian: procedure 3, std, selector 0
  0xbb, // SEQ_NBR
  0x00, // parameter
  0x42, // checksum
  0x47, 0x2f, // CRC
];

/** §6: full read of ST8, toggle 1. */
// prettier-ignore
export const READ_ST8_PACKET = [
  0xee, // STP
  0x00, // identity
  0x20, // ctrl (toggle 1)
  0x00, // seq
  0x00, 0x03, // length 3
  0x30, // full read
  0x00, 0x08, // table ST8
  0x17, 0xf3, // CRC
];

/** §6: the PSEM response to that ST8 read (packet bytes not given in the doc). */
// prettier-ignore
export const ST8_RESPONSE_PSEM = [
  0x00, // ok
  0x00, 0x04, // count 4
  0x03, 0x00, // TABLE_IDB_BFLD: procedure 3
  0xbb, // SEQ_NBR echoed
  0x00, // RESULT_CODE 0 = completed
  0x42, // checksum
];

/** §3: T `set_meter_id` vendor procedure written to ST7: MP70, seq 0x1C. */
// prettier-ignore
export const ST7_MP70_TABLE = [
  0x46, 0x08, // TABLE_IDB_BFLD little-endian 0x0846: procedure 70, STD_VS_MFG = 1
  0x1c, // SEQ_NBR
  0x03, 0x0b, 0x0c, 0x09, 0x0f, 0x12, // parameters
];

export const bytes = (a: number[]): Buffer => Buffer.from(a);

/** §2 layout (constructed): partial read by offset of MT1, offset 0x010203, 64 bytes. */
// prettier-ignore
export const PARTIAL_READ_MT1_PSEM = [
  0x3f, // partial read, offset
  0x08, 0x01, // table id MT1
  0x01, 0x02, 0x03, // offset 0x010203, 24-bit big-endian
  0x00, 0x40, // count 64
];

/** §2 feature codes per M `MProtocolC1221::Identify` (constructed): one of each. */
// prettier-ignore
export const IDENT_RESPONSE_ALL_FEATURES_PSEM = [
  0x00, // ok
  0x02, // std: 2 = C12.21
  0x01, // version 1
  0x00, // revision 0
  0x01, // feature 0x01 <auth_type><auth_alg_id>
  0x01, // auth_type: bit 0 = supported
  0x00, // auth_alg_id: 0 = DES
  0x02, // feature 0x02 <auth_type><auth_alg_id><ticket_len><ticket>
  0x01, // auth_type
  0xff, // auth_alg_id: 0xFF = AES (M)
  0x02, // ticket length 2
  0xaa, 0xbb, // ticket
  0x06, // feature 0x06 device class <universal-id>
  0x0d, // UID element byte
  0x02, // length 2
  0x01, 0x02, // device class value
  0x07, // feature 0x07 <identity-length><identity>
  0x01, // identity length 1
  0x09, // identity
  0x00, // end of feature list
];
