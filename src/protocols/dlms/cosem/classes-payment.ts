import { DATE_TIME_OCTETS, LOGICAL_NAME } from './attr-types';
import { LOGICAL_NAME_ATTRIBUTE, type InterfaceClass } from './interface-class';

/**
 * Payment metering classes (docs/dlms.md §6 "Payment classes": GXPY GXDLMSAccount / Credit /
 * Charge / TokenGateway; GBCSP for the GB OBIS precedent). Where dlms.md names an attribute but
 * not its type, the type is GXPY's and the row says `modelled` (docs/dlms.md §10 item 5: the
 * payment enums are Gurux-only, not checked against the Blue Book text).
 */

const GXPY = 'type from GXPY only (docs/dlms.md §10 item 5)';
const DUMMY = 'integer';

export const ACCOUNT_CLASS: InterfaceClass = {
  classId: 111,
  version: 0,
  name: 'Account',
  attributes: [
    LOGICAL_NAME_ATTRIBUTE,
    // {payment_mode 1 credit / 2 prepayment, account_status 1 new / 2 active / 3 closed}.
    { index: 2, name: 'account_mode_and_status', type: { structure: ['enum', 'enum'] }, access: 'read-only' },
    { index: 3, name: 'current_credit_in_use', type: 'unsigned', access: 'read-only' },
    { index: 4, name: 'current_credit_status', type: 'bit-string', access: 'read-only' },
    { index: 5, name: 'available_credit', type: 'double-long', access: 'read-only' },
    { index: 6, name: 'amount_to_clear', type: 'double-long', access: 'read-only' },
    { index: 7, name: 'clearance_threshold', type: 'double-long', access: 'read-only' },
    { index: 8, name: 'aggregated_debt', type: 'double-long', access: 'read-only' },
    { index: 9, name: 'credit_reference_list', type: { arrayOf: LOGICAL_NAME }, access: 'read-only' },
    { index: 10, name: 'charge_reference_list', type: { arrayOf: LOGICAL_NAME }, access: 'read-only' },
    {
      index: 11,
      name: 'credit_charge_configuration',
      type: { arrayOf: { structure: [LOGICAL_NAME, LOGICAL_NAME, 'bit-string'] } },
      access: 'read-only',
      modelled: GXPY,
    },
    {
      index: 12,
      name: 'token_gateway_configuration',
      type: { arrayOf: { structure: [LOGICAL_NAME, 'unsigned'] } },
      access: 'read-only',
      modelled: GXPY,
    },
    { index: 13, name: 'account_activation_time', type: DATE_TIME_OCTETS, access: 'read-only' },
    { index: 14, name: 'account_closure_time', type: DATE_TIME_OCTETS, access: 'read-only' },
    {
      index: 15,
      name: 'currency',
      type: { structure: ['any', 'integer', 'enum'] },
      access: 'read-only',
      modelled: '{name, scale, unit} per GXPY GXCurrency; the name string type is not confirmed',
    },
    { index: 16, name: 'low_credit_threshold', type: 'double-long', access: 'read-only' },
    { index: 17, name: 'next_credit_available_threshold', type: 'double-long', access: 'read-only' },
    { index: 18, name: 'max_provision', type: 'long-unsigned', access: 'read-only' },
    { index: 19, name: 'max_provision_period', type: 'double-long', access: 'read-only' },
  ],
  methods: [
    { index: 1, name: 'activate_account', paramType: DUMMY, access: 'no-access' },
    { index: 2, name: 'close_account', paramType: DUMMY, access: 'no-access' },
    { index: 3, name: 'reset_account', paramType: DUMMY, access: 'no-access' },
  ],
};

export const CREDIT_CLASS: InterfaceClass = {
  classId: 112,
  version: 0,
  name: 'Credit',
  attributes: [
    LOGICAL_NAME_ATTRIBUTE,
    { index: 2, name: 'current_credit_amount', type: 'double-long', access: 'read-only' },
    // 0 token, 1 reserved, 2 emergency, 3 time-based, 4 consumption-based.
    { index: 3, name: 'type', type: 'enum', access: 'read-only', static: true },
    { index: 4, name: 'priority', type: 'unsigned', access: 'read-only', modelled: GXPY },
    { index: 5, name: 'warning_threshold', type: 'double-long', access: 'read-only', modelled: GXPY },
    { index: 6, name: 'limit', type: 'double-long', access: 'read-only', modelled: GXPY },
    { index: 7, name: 'credit_configuration', type: 'bit-string', access: 'read-only' },
    // 0 enabled, 1 selectable, 2 invoked, 3 in-use, 4 consumed.
    { index: 8, name: 'status', type: 'enum', access: 'read-only' },
    { index: 9, name: 'preset_credit_amount', type: 'double-long', access: 'read-only', modelled: GXPY },
    {
      index: 10,
      name: 'credit_available_threshold',
      type: 'double-long',
      access: 'read-only',
      modelled: GXPY,
    },
    { index: 11, name: 'period', type: DATE_TIME_OCTETS, access: 'read-only', modelled: GXPY },
  ],
  methods: [
    { index: 1, name: 'update_amount', paramType: 'double-long', access: 'no-access' },
    { index: 2, name: 'set_amount_to_value', paramType: 'double-long', access: 'no-access' },
    { index: 3, name: 'invoke_credit', paramType: DUMMY, access: 'no-access' },
  ],
};

/** unit_charge {charge_per_unit_scaling {int8, int8}, commodity {...}, charge_table array} (GXPY). */
const UNIT_CHARGE = 'structure';

export const CHARGE_CLASS: InterfaceClass = {
  classId: 113,
  version: 0,
  name: 'Charge',
  attributes: [
    LOGICAL_NAME_ATTRIBUTE,
    { index: 2, name: 'total_amount_paid', type: 'double-long', access: 'read-only' },
    // 0 consumption-based, 1 time-based, 2 payment-event-based.
    { index: 3, name: 'charge_type', type: 'enum', access: 'read-only', static: true },
    { index: 4, name: 'priority', type: 'unsigned', access: 'read-only', modelled: GXPY },
    { index: 5, name: 'unit_charge_active', type: UNIT_CHARGE, access: 'read-only', modelled: GXPY },
    { index: 6, name: 'unit_charge_passive', type: UNIT_CHARGE, access: 'read-only', modelled: GXPY },
    { index: 7, name: 'unit_charge_activation_time', type: DATE_TIME_OCTETS, access: 'read-only' },
    { index: 8, name: 'period', type: 'double-long-unsigned', access: 'read-only' },
    { index: 9, name: 'charge_configuration', type: 'bit-string', access: 'read-only', modelled: GXPY },
    { index: 10, name: 'last_collection_time', type: DATE_TIME_OCTETS, access: 'read-only' },
    { index: 11, name: 'last_collection_amount', type: 'double-long', access: 'read-only', modelled: GXPY },
    { index: 12, name: 'total_amount_remaining', type: 'double-long', access: 'read-only', modelled: GXPY },
    { index: 13, name: 'proportion', type: 'long-unsigned', access: 'read-only' },
  ],
  methods: [
    { index: 1, name: 'update_unit_charge', paramType: UNIT_CHARGE, access: 'no-access', modelled: GXPY },
    { index: 2, name: 'activate_passive_unit_charge', paramType: DUMMY, access: 'no-access' },
    { index: 3, name: 'collect', paramType: DUMMY, access: 'no-access' },
    {
      index: 4,
      name: 'update_total_amount_remaining',
      paramType: 'double-long',
      access: 'no-access',
      modelled: GXPY,
    },
    {
      index: 5,
      name: 'set_total_amount_remaining',
      paramType: 'double-long',
      access: 'no-access',
      modelled: GXPY,
    },
  ],
};

export const TOKEN_GATEWAY_CLASS: InterfaceClass = {
  classId: 115,
  version: 0,
  name: 'Token gateway',
  attributes: [
    LOGICAL_NAME_ATTRIBUTE,
    { index: 2, name: 'token', type: 'octet-string', access: 'read-only' },
    { index: 3, name: 'token_time', type: DATE_TIME_OCTETS, access: 'read-only' },
    {
      index: 4,
      name: 'token_description',
      type: { arrayOf: 'octet-string' },
      access: 'read-only',
      modelled: GXPY,
    },
    // 0 remote, 1 local, 2 manual.
    { index: 5, name: 'token_delivery_method', type: 'enum', access: 'read-only' },
    // {enum 0 format-ok .. 3 execution-ok, 4..7 failures, 8 received; bit-string data_value}.
    { index: 6, name: 'token_status', type: { structure: ['enum', 'bit-string'] }, access: 'read-only' },
  ],
  methods: [{ index: 1, name: 'enter', paramType: 'octet-string', access: 'no-access' }],
};

/**
 * token_status code values (docs/dlms.md §6 "Token gateway": 0 format-ok .. 3 execution-ok, 4-7
 * failures, 8 received). The names of 1, 2 and 4-7 follow GXPY TokenStatusCode: modelled.
 */
export const TokenStatusCode = {
  'format-ok': 0,
  'authentication-ok': 1,
  'validation-ok': 2,
  'token-execution-ok': 3,
  'token-format-failure': 4,
  'authentication-failure': 5,
  'validation-result-failure': 6,
  'token-execution-result-failure': 7,
  'token-received': 8,
} as const;
