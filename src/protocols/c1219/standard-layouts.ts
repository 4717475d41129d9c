/**
 * Layouts of the standard tables this engine serves, as data. Field names and orders follow the
 * open sources cited in docs/c1218.md §3-§4 (E = epri-dev/c12test `C12Meter.cpp`, T = termineter).
 * Layouts whose size depends on other tables (ST0 sets, ST42/ST44 counts, ST1/ST5 ID_FORM,
 * ST3 DIM_MFG_STATUS_USED) are functions of those values, so a client can size them after
 * reading the table they depend on.
 */
import type { BitField, CodecContext, IdForm, TableLayout, TableRecord } from './field-types';
import { decodeTable, decodeTablePrefix } from './table-codec';

export const StdTable = {
  GEN_CONFIG: 0,
  GENERAL_MFG_ID: 1,
  ED_MODE_STATUS: 3,
  DEVICE_IDENT: 5,
  UTIL_INFO: 6,
  PROC_INITIATE: 7,
  PROC_RESPONSE: 8,
  ACT_SECURITY_LIMITING: 41,
  SECURITY: 42,
  ACCESS_CONTROL: 44,
  CLOCK: 52,
} as const;

/** TABLE_IDB_BFLD of ST7/ST8 (docs/c1218.md §3 "ST7 / ST8"). */
export const TABLE_IDB_BITS: readonly BitField[] = [
  { name: 'TBL_PROC_NBR', shift: 0, width: 11 },
  { name: 'STD_VS_MFG_FLAG', shift: 11, width: 1 },
  { name: 'SELECTOR', shift: 12, width: 4 },
];

/** TABLE_IDC_BFLD of ST44 (docs/c1218.md §4). */
export const TABLE_IDC_BITS: readonly BitField[] = [
  { name: 'TBL_PROC_NBR', shift: 0, width: 11 },
  { name: 'STD_VS_MFG_FLAG', shift: 11, width: 1 },
  { name: 'PROC_FLAG', shift: 12, width: 1 },
  { name: 'ANY_READ', shift: 13, width: 1 },
  { name: 'ANY_WRITE', shift: 14, width: 1 },
];

/** ST0 bytes 0..18: the part that fixes the sizes of the six sets after it. */
const ST0_HEADER: TableLayout = {
  id: StdTable.GEN_CONFIG,
  name: 'GEN_CONFIG_TBL',
  fields: [
    {
      name: 'FORMAT_CONTROL_1',
      type: 'UINT8',
      bits: [
        { name: 'DATA_ORDER', shift: 0, width: 1 },
        { name: 'CHAR_FORMAT', shift: 1, width: 3 },
        { name: 'MODEL_SELECT', shift: 4, width: 3 },
      ],
    },
    {
      name: 'FORMAT_CONTROL_2',
      type: 'UINT8',
      bits: [
        { name: 'TM_FORMAT', shift: 0, width: 3 },
        { name: 'DATA_ACCESS_METHOD', shift: 3, width: 2 },
        { name: 'ID_FORM', shift: 5, width: 1 },
        { name: 'INT_FORMAT', shift: 6, width: 2 },
      ],
    },
    {
      name: 'FORMAT_CONTROL_3',
      type: 'UINT8',
      bits: [
        { name: 'NI_FORMAT1', shift: 0, width: 4 },
        { name: 'NI_FORMAT2', shift: 4, width: 4 },
      ],
    },
    { name: 'DEVICE_CLASS', type: 'BINARY', size: 4 },
    { name: 'NAMEPLATE_TYPE', type: 'UINT8' },
    { name: 'DEFAULT_SET_USED', type: 'UINT8' },
    { name: 'MAX_PROC_PARM_LENGTH', type: 'UINT8' },
    { name: 'MAX_RESP_DATA_LEN', type: 'UINT8' },
    { name: 'STD_VERSION_NO', type: 'UINT8' },
    { name: 'STD_REVISION_NO', type: 'UINT8' },
    { name: 'DIM_STD_TBLS_USED', type: 'UINT8' },
    { name: 'DIM_MFG_TBLS_USED', type: 'UINT8' },
    { name: 'DIM_STD_PROC_USED', type: 'UINT8' },
    { name: 'DIM_MFG_PROC_USED', type: 'UINT8' },
    { name: 'DIM_MFG_STATUS_USED', type: 'UINT8' },
    { name: 'NBR_PENDING', type: 'UINT8' },
  ],
};
export const ST0_HEADER_SIZE = 19;

export interface St0Dims {
  stdTables: number;
  mfgTables: number;
  stdProcs: number;
  mfgProcs: number;
}

/**
 * ST0 GEN_CONFIG_TBL [E `MakeST0`]: header, then STD_TBLS_USED, MFG_TBLS_USED, STD_PROC_USED,
 * MFG_PROC_USED, STD_TBLS_WRITE, MFG_TBLS_WRITE. A set of dimension 0 is absent.
 */
export function st0Layout(d: St0Dims): TableLayout {
  const set = (name: string, size: number): TableLayout['fields'] =>
    size > 0 ? [{ name, type: 'SET', size }] : [];
  return {
    ...ST0_HEADER,
    fields: [
      ...ST0_HEADER.fields,
      ...set('STD_TBLS_USED', d.stdTables),
      ...set('MFG_TBLS_USED', d.mfgTables),
      ...set('STD_PROC_USED', d.stdProcs),
      ...set('MFG_PROC_USED', d.mfgProcs),
      ...set('STD_TBLS_WRITE', d.stdTables),
      ...set('MFG_TBLS_WRITE', d.mfgTables),
    ],
  };
}

/** ST0 never depends on DATA_ORDER (bytes and sets only), so any context decodes it. */
const ST0_CTX: CodecContext = { dataOrder: 'little', charFormat: 1, tmFormat: 2, idForm: 0 };

/** Decode ST0 as a client does: read the header for the set sizes, then the whole table. */
export function decodeGenConfig(bytes: Uint8Array): TableRecord {
  const head = decodeTablePrefix(ST0_HEADER, bytes, ST0_CTX);
  const dims: St0Dims = {
    stdTables: head['DIM_STD_TBLS_USED'] as number,
    mfgTables: head['DIM_MFG_TBLS_USED'] as number,
    stdProcs: head['DIM_STD_PROC_USED'] as number,
    mfgProcs: head['DIM_MFG_PROC_USED'] as number,
  };
  return decodeTable(st0Layout(dims), bytes, ST0_CTX);
}

/** The codec context ST0 announces (what a client must use for every other table). */
export function contextFromGenConfig(st0: TableRecord): CodecContext {
  const fc1 = st0['FORMAT_CONTROL_1'] as Record<string, number>;
  const fc2 = st0['FORMAT_CONTROL_2'] as Record<string, number>;
  return {
    dataOrder: fc1['DATA_ORDER'] === 1 ? 'big' : 'little',
    charFormat: fc1['CHAR_FORMAT'] === 2 ? 2 : 1,
    tmFormat: ([1, 2, 3, 4] as const).find((t) => t === fc2['TM_FORMAT']) ?? 2,
    idForm: fc2['ID_FORM'] === 1 ? 1 : 0,
  };
}

/** ST1 GENERAL_MFG_ID_TBL, 32 bytes [E `MakeST1`; T]: the serial is 16 chars or BCD(8) by ID_FORM. */
export function st1Layout(idForm: IdForm): TableLayout {
  return {
    id: StdTable.GENERAL_MFG_ID,
    name: 'GENERAL_MFG_ID_TBL',
    fields: [
      { name: 'MANUFACTURER', type: 'STRING', size: 4 },
      { name: 'ED_MODEL', type: 'STRING', size: 8 },
      { name: 'HW_VERSION_NUMBER', type: 'UINT8' },
      { name: 'HW_REVISION_NUMBER', type: 'UINT8' },
      { name: 'FW_VERSION_NUMBER', type: 'UINT8' },
      { name: 'FW_REVISION_NUMBER', type: 'UINT8' },
      idForm === 1
        ? { name: 'MFG_SERIAL_NUMBER', type: 'BCD', size: 8 }
        : { name: 'MFG_SERIAL_NUMBER', type: 'STRING', size: 16 },
    ],
  };
}

export const ED_MODE_BITS: readonly BitField[] = [
  { name: 'METERING_FLAG', shift: 0, width: 1 },
  { name: 'TEST_MODE_FLAG', shift: 1, width: 1 },
  { name: 'METER_SHOP_MODE_FLAG', shift: 2, width: 1 },
  { name: 'FACTORY_FLAG', shift: 3, width: 1 },
];

export const ED_STD_STATUS1_BITS: readonly BitField[] = [
  'UNPROGRAMMED_FLAG',
  'CONFIGURATION_ERROR_FLAG',
  'SELF_CHK_ERROR_FLAG',
  'RAM_FAILURE_FLAG',
  'ROM_FAILURE_FLAG',
  'NONVOL_MEM_FAILURE_FLAG',
  'CLOCK_ERROR_FLAG',
  'MEASUREMENT_ERROR_FLAG',
  'LOW_BATTERY_FLAG',
  'LOW_LOSS_POTENTIAL_FLAG',
  'DEMAND_OVERLOAD_FLAG',
  'POWER_FAILURE_FLAG',
  'TAMPER_DETECT_FLAG',
  'REVERSE_ROTATION_FLAG',
].map((name, shift) => ({ name, shift, width: 1 }));

/**
 * ST3 ED_MODE_STATUS_TBL [E `MakeST3`]. ED_MFG_STATUS is sized by DIM_MFG_STATUS_USED
 * ([I] docs/c1218.md §3: E models it as 1 byte); with 0 the field is absent.
 */
export function st3Layout(mfgStatusBytes: number): TableLayout {
  return {
    id: StdTable.ED_MODE_STATUS,
    name: 'ED_MODE_STATUS_TBL',
    fields: [
      { name: 'ED_MODE', type: 'UINT8', bits: ED_MODE_BITS },
      { name: 'ED_STD_STATUS1', type: 'UINT16', bits: ED_STD_STATUS1_BITS },
      { name: 'ED_STD_STATUS2', type: 'UINT8' },
      ...(mfgStatusBytes > 0 ? [{ name: 'ED_MFG_STATUS', type: 'SET' as const, size: mfgStatusBytes }] : []),
    ],
  };
}

/** ST5 DEVICE_IDENT_TBL: 20 chars (ID_FORM 0) or BCD(10) (ID_FORM 1) [E; T checks 20 or 10]. */
export function st5Layout(idForm: IdForm): TableLayout {
  return {
    id: StdTable.DEVICE_IDENT,
    name: 'DEVICE_IDENT_TBL',
    fields: [
      idForm === 1
        ? { name: 'IDENTIFICATION', type: 'BCD', size: 10 }
        : { name: 'IDENTIFICATION', type: 'STRING', size: 20 },
    ],
  };
}

/** ST6 UTIL_INFO_TBL [E `MakeST6`], 230 bytes. */
export const ST6_LAYOUT: TableLayout = {
  id: StdTable.UTIL_INFO,
  name: 'UTIL_INFO_TBL',
  fields: [
    { name: 'OWNER_NAME', type: 'STRING', size: 20 },
    { name: 'UTILITY_DIV', type: 'STRING', size: 20 },
    { name: 'SERVICE_POINT_ID', type: 'STRING', size: 20 },
    { name: 'ELEC_ADDR', type: 'STRING', size: 20 },
    { name: 'DEVICE_ID', type: 'STRING', size: 20 },
    { name: 'UTIL_SER_NO', type: 'STRING', size: 20 },
    { name: 'CUSTOMER_ID', type: 'STRING', size: 20 },
    { name: 'COORDINATE_1', type: 'BINARY', size: 10 },
    { name: 'COORDINATE_2', type: 'BINARY', size: 10 },
    { name: 'COORDINATE_3', type: 'BINARY', size: 10 },
    { name: 'TARIFF_ID', type: 'STRING', size: 8 },
    { name: 'EX1_SW_VENDOR', type: 'STRING', size: 4 },
    { name: 'EX1_SW_VERSION_NUMBER', type: 'UINT8' },
    { name: 'EX1_SW_REVISION_NUMBER', type: 'UINT8' },
    { name: 'EX2_SW_VENDOR', type: 'STRING', size: 4 },
    { name: 'EX2_SW_VERSION_NUMBER', type: 'UINT8' },
    { name: 'EX2_SW_REVISION_NUMBER', type: 'UINT8' },
    { name: 'PROGRAMMER_NAME', type: 'STRING', size: 10 },
    { name: 'MISC_ID', type: 'STRING', size: 30 },
  ],
};

/** ST7 PROC_INITIATE_TBL: TABLE_IDB_BFLD(2, device byte order) SEQ_NBR(1) PARM... [T; M; W]. */
export const ST7_LAYOUT: TableLayout = {
  id: StdTable.PROC_INITIATE,
  name: 'PROC_INITIATE_TBL',
  fields: [
    { name: 'TABLE_IDB_BFLD', type: 'UINT16', bits: TABLE_IDB_BITS },
    { name: 'SEQ_NBR', type: 'UINT8' },
    { name: 'PARM', type: 'BINARY', rest: true },
  ],
};

/** ST8 PROC_RESPONSE_TBL: the ST7 header echoed, RESULT_CODE(1), RESP_DATA... [T; M]. */
export const ST8_LAYOUT: TableLayout = {
  id: StdTable.PROC_RESPONSE,
  name: 'PROC_RESPONSE_TBL',
  fields: [
    { name: 'TABLE_IDB_BFLD', type: 'UINT16', bits: TABLE_IDB_BITS },
    { name: 'SEQ_NBR', type: 'UINT8' },
    { name: 'RESULT_CODE', type: 'UINT8' },
    { name: 'RESP_DATA', type: 'BINARY', rest: true },
  ],
};

/** ST41 ACT_SECURITY_LIMITING_TBL [T `security.py`; E ST40 tail]: 6 bytes. */
export const ST41_LAYOUT: TableLayout = {
  id: StdTable.ACT_SECURITY_LIMITING,
  name: 'ACT_SECURITY_LIMITING_TBL',
  fields: [
    { name: 'NBR_PASSWORDS', type: 'UINT8' },
    { name: 'PASSWORD_LEN', type: 'UINT8' },
    { name: 'NBR_KEYS', type: 'UINT8' },
    { name: 'KEY_LEN', type: 'UINT8' },
    { name: 'NBR_PERM_USED', type: 'UINT16' },
  ],
};

/** ST42 SECURITY_TBL: NBR_PASSWORDS x (PASSWORD[PASSWORD_LEN] + ACCESS_PERMISSIONS) [T]. */
export function st42Layout(nbrPasswords: number, passwordLen: number): TableLayout {
  return {
    id: StdTable.SECURITY,
    name: 'SECURITY_TBL',
    fields: [
      {
        name: 'PASSWORDS',
        count: nbrPasswords,
        group: [
          { name: 'PASSWORD', type: 'BINARY', size: passwordLen },
          { name: 'ACCESS_PERMISSIONS', type: 'UINT8' },
        ],
      },
    ],
  };
}

/** ST44 ACCESS_CONTROL_TBL: NBR_PERM_USED x (TABLE_IDC_BFLD + READ + WRITE group masks) [T]. */
export function st44Layout(nbrPermUsed: number): TableLayout {
  return {
    id: StdTable.ACCESS_CONTROL,
    name: 'ACCESS_CONTROL_TBL',
    fields: [
      {
        name: 'ACCESS_CONTROL',
        count: nbrPermUsed,
        group: [
          { name: 'TABLE_IDC_BFLD', type: 'UINT16', bits: TABLE_IDC_BITS },
          { name: 'GRP_READ_ACCESS', type: 'UINT8' },
          { name: 'GRP_WRITE_ACCESS', type: 'UINT8' },
        ],
      },
    ],
  };
}

export const TIME_DATE_QUAL_BITS: readonly BitField[] = [
  { name: 'DAY_OF_WEEK', shift: 0, width: 3 },
  { name: 'DST_FLAG', shift: 3, width: 1 },
  { name: 'GMT_FLAG', shift: 4, width: 1 },
  { name: 'TM_ZN_APPLIED_FLAG', shift: 5, width: 1 },
  { name: 'DST_APPLIED_FLAG', shift: 6, width: 1 },
];

/**
 * ST52 CLOCK_TBL [E `MakeST52`, written for TM_FORMAT 2]: CLOCK_CALENDAR then TIME_DATE_QUAL.
 * CLOCK_CALENDAR is an LTIME so the same row serves TM_FORMAT 1/3/4 (modelled for those).
 */
export const ST52_LAYOUT: TableLayout = {
  id: StdTable.CLOCK,
  name: 'CLOCK_TBL',
  fields: [
    { name: 'CLOCK_CALENDAR', type: 'LTIME' },
    { name: 'TIME_DATE_QUAL', type: 'UINT8', bits: TIME_DATE_QUAL_BITS },
  ],
};

/**
 * SP10 Set Date and/or Time parameters: SET_MASK (b0 time, b1 date, b2 TIME_DATE_QUAL) +
 * LTIME_DATE + TIME_DATE_QUAL. modelled: docs/c1218.md §3 "SP10 parameter layout (not verified)".
 */
export const SP10_PARAM_LAYOUT: TableLayout = {
  id: StdTable.PROC_INITIATE,
  name: 'SP10_PARM',
  fields: [
    {
      name: 'SET_MASK',
      type: 'UINT8',
      bits: [
        { name: 'SET_TIME_FLAG', shift: 0, width: 1 },
        { name: 'SET_DATE_FLAG', shift: 1, width: 1 },
        { name: 'SET_TIME_DATE_QUAL', shift: 2, width: 1 },
      ],
    },
    { name: 'DATE_TIME', type: 'LTIME' },
    { name: 'TIME_DATE_QUAL', type: 'UINT8', bits: TIME_DATE_QUAL_BITS },
  ],
};
