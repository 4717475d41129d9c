import { CAPTURE_OBJECT, DATE_TIME_OCTETS, LOGICAL_NAME, REGISTER_VALUE } from './attr-types';
import { LOGICAL_NAME_ATTRIBUTE, type InterfaceClass } from './interface-class';

/**
 * Measurement and infrastructure classes (docs/dlms.md §6; GXPY `objects/GXDLMS*.py`
 * getDataType, JDLMS `interfaceclass/*`). Method parameters that the Blue Book defines as
 * "integer (0)" dummies are typed `integer`.
 */

const SCALER_UNIT = { structure: ['integer', 'enum'] } as const;
const RESET = { index: 1, name: 'reset', paramType: 'integer', access: 'no-access' } as const;

export const DATA_CLASS: InterfaceClass = {
  classId: 1,
  version: 0,
  name: 'Data',
  attributes: [LOGICAL_NAME_ATTRIBUTE, { index: 2, name: 'value', type: 'any', access: 'read-only' }],
  methods: [],
};

export const REGISTER_CLASS: InterfaceClass = {
  classId: 3,
  version: 0,
  name: 'Register',
  attributes: [
    LOGICAL_NAME_ATTRIBUTE,
    { index: 2, name: 'value', type: REGISTER_VALUE, access: 'read-only' },
    { index: 3, name: 'scaler_unit', type: SCALER_UNIT, access: 'read-only', static: true },
  ],
  methods: [RESET],
};

export const EXTENDED_REGISTER_CLASS: InterfaceClass = {
  classId: 4,
  version: 0,
  name: 'Extended register',
  attributes: [
    LOGICAL_NAME_ATTRIBUTE,
    { index: 2, name: 'value', type: REGISTER_VALUE, access: 'read-only' },
    { index: 3, name: 'scaler_unit', type: SCALER_UNIT, access: 'read-only', static: true },
    { index: 4, name: 'status', type: 'any', access: 'read-only' },
    { index: 5, name: 'capture_time', type: DATE_TIME_OCTETS, access: 'read-only' },
  ],
  methods: [RESET],
};

/** Profile generic selectors: 1 range_descriptor, 2 entry_descriptor (docs/dlms.md §4.2). */
export const PROFILE_BUFFER_SELECTORS: readonly number[] = [1, 2];

export const PROFILE_GENERIC_CLASS: InterfaceClass = {
  classId: 7,
  version: 1,
  name: 'Profile generic',
  attributes: [
    LOGICAL_NAME_ATTRIBUTE,
    {
      index: 2,
      name: 'buffer',
      type: { arrayOf: 'structure' },
      access: 'read-only',
      selectors: PROFILE_BUFFER_SELECTORS,
    },
    {
      index: 3,
      name: 'capture_objects',
      type: { arrayOf: CAPTURE_OBJECT },
      access: 'read-only',
      static: true,
    },
    { index: 4, name: 'capture_period', type: 'double-long-unsigned', access: 'read-only', static: true },
    { index: 5, name: 'sort_method', type: 'enum', access: 'read-only', static: true },
    { index: 6, name: 'sort_object', type: CAPTURE_OBJECT, access: 'read-only', static: true },
    { index: 7, name: 'entries_in_use', type: 'double-long-unsigned', access: 'read-only' },
    { index: 8, name: 'profile_entries', type: 'double-long-unsigned', access: 'read-only', static: true },
  ],
  methods: [
    { index: 1, name: 'reset', paramType: 'integer', access: 'no-access' },
    { index: 2, name: 'capture', paramType: 'integer', access: 'no-access' },
  ],
};

export const CLOCK_CLASS: InterfaceClass = {
  classId: 8,
  version: 0,
  name: 'Clock',
  attributes: [
    LOGICAL_NAME_ATTRIBUTE,
    { index: 2, name: 'time', type: DATE_TIME_OCTETS, access: 'read-only' },
    { index: 3, name: 'time_zone', type: 'long', access: 'read-only' },
    { index: 4, name: 'status', type: 'unsigned', access: 'read-only' },
    { index: 5, name: 'daylight_savings_begin', type: DATE_TIME_OCTETS, access: 'read-only' },
    { index: 6, name: 'daylight_savings_end', type: DATE_TIME_OCTETS, access: 'read-only' },
    { index: 7, name: 'daylight_savings_deviation', type: 'integer', access: 'read-only' },
    { index: 8, name: 'daylight_savings_enabled', type: 'boolean', access: 'read-only' },
    { index: 9, name: 'clock_base', type: 'enum', access: 'read-only', static: true },
  ],
  methods: [
    { index: 1, name: 'adjust_to_quarter', paramType: 'integer', access: 'no-access' },
    { index: 2, name: 'adjust_to_measuring_period', paramType: 'integer', access: 'no-access' },
    { index: 3, name: 'adjust_to_minute', paramType: 'integer', access: 'no-access' },
    {
      index: 4,
      name: 'adjust_to_preset_time',
      paramType: 'integer',
      access: 'no-access',
    },
    {
      index: 5,
      name: 'preset_adjusting_time',
      paramType: { structure: [DATE_TIME_OCTETS, DATE_TIME_OCTETS, DATE_TIME_OCTETS] },
      access: 'no-access',
      modelled:
        'preset_time, validity_interval_start, validity_interval_end per GXPY GXDLMSClock.presetAdjustingTime',
    },
    { index: 6, name: 'shift_time', paramType: 'long', access: 'no-access' },
  ],
};

/** script {long-unsigned id, array of action {enum service, long-unsigned class, LN, integer index, any parameter}}. */
const SCRIPT = {
  structure: [
    'long-unsigned',
    { arrayOf: { structure: ['enum', 'long-unsigned', LOGICAL_NAME, 'integer', 'any'] } },
  ],
} as const;

export const SCRIPT_TABLE_CLASS: InterfaceClass = {
  classId: 9,
  version: 0,
  name: 'Script table',
  attributes: [
    LOGICAL_NAME_ATTRIBUTE,
    {
      index: 2,
      name: 'scripts',
      type: { arrayOf: SCRIPT },
      access: 'read-only',
      static: true,
      modelled:
        'action layout per GXPY GXDLMSScriptTable (service_id, class_id, logical_name, index, parameter)',
    },
  ],
  methods: [{ index: 1, name: 'execute', paramType: 'long-unsigned', access: 'no-access' }],
};
