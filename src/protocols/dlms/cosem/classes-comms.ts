import { LOGICAL_NAME } from './attr-types';
import type { AttrType } from './attr-types';
import { LOGICAL_NAME_ATTRIBUTE, type InterfaceClass } from './interface-class';

/**
 * Association, addressing and security classes (docs/dlms.md §2 "HDLC setup object", §6).
 */

/** object_list element (docs/dlms.md §6; GXPY getObjects / __getAccessRights). */
export const OBJECT_LIST_ELEMENT: AttrType = {
  structure: [
    'long-unsigned',
    'unsigned',
    LOGICAL_NAME,
    {
      structure: [
        { arrayOf: { structure: ['integer', 'enum', { oneOf: ['null', { arrayOf: 'integer' }] }] } },
        { arrayOf: { structure: ['integer', { oneOf: ['enum', 'boolean'] }] } },
      ],
    },
  ],
};

/**
 * application_context_name / authentication_mechanism_name in Association LN version 1: a
 * structure of the OID arcs {joint-iso-ctt 2, country 16, country-name 756, identified-organization
 * 5, DLMS-UA 8, application-context 1 | mechanism-name 2, id} typed u8 u8 u16 u8 u8 u8 u8 (GXPY
 * GXDLMSAssociationLogicalName getValue / updateApplicationContextName).
 */
export const OID_STRUCTURE: AttrType = {
  structure: ['unsigned', 'unsigned', 'long-unsigned', 'unsigned', 'unsigned', 'unsigned', 'unsigned'],
};

/** xdlms_context_info {conformance bit-string(24), max-rx, max-tx, version, QoS, cyphering_info}. */
export const XDLMS_CONTEXT_INFO: AttrType = {
  structure: ['bit-string', 'long-unsigned', 'long-unsigned', 'unsigned', 'integer', 'octet-string'],
};

/** Association LN (docs/dlms.md §6), version 1 (adds security_setup_reference). */
export const ASSOCIATION_LN_CLASS: InterfaceClass = {
  classId: 15,
  version: 1,
  name: 'Association LN',
  attributes: [
    LOGICAL_NAME_ATTRIBUTE,
    { index: 2, name: 'object_list', type: { arrayOf: OBJECT_LIST_ELEMENT }, access: 'read-only' },
    {
      index: 3,
      name: 'associated_partners_id',
      type: { structure: ['integer', 'long-unsigned'] },
      access: 'read-only',
    },
    { index: 4, name: 'application_context_name', type: OID_STRUCTURE, access: 'read-only' },
    { index: 5, name: 'xdlms_context_info', type: XDLMS_CONTEXT_INFO, access: 'read-only' },
    { index: 6, name: 'authentication_mechanism_name', type: OID_STRUCTURE, access: 'read-only' },
    // The secret is never readable (Blue Book: write-only); LLS password / HLS secret.
    { index: 7, name: 'secret', type: 'octet-string', access: 'no-access' },
    { index: 8, name: 'association_status', type: 'enum', access: 'read-only' },
    { index: 9, name: 'security_setup_reference', type: LOGICAL_NAME, access: 'read-only' },
  ],
  methods: [
    { index: 1, name: 'reply_to_HLS_authentication', paramType: 'octet-string', access: 'access' },
    { index: 2, name: 'change_HLS_secret', paramType: 'octet-string', access: 'no-access' },
    { index: 3, name: 'add_object', paramType: OBJECT_LIST_ELEMENT, access: 'no-access' },
    { index: 4, name: 'remove_object', paramType: OBJECT_LIST_ELEMENT, access: 'no-access' },
  ],
};

/** SAP assignment, `0-0:41.0.0.255` (docs/dlms.md §6 "OBIS codes"). */
export const SAP_ASSIGNMENT_CLASS: InterfaceClass = {
  classId: 17,
  version: 0,
  name: 'SAP assignment',
  attributes: [
    LOGICAL_NAME_ATTRIBUTE,
    {
      index: 2,
      name: 'SAP_assignment_list',
      type: { arrayOf: { structure: ['long-unsigned', 'octet-string'] } },
      access: 'read-only',
    },
  ],
  methods: [
    {
      index: 1,
      name: 'connect_logical_device',
      paramType: { structure: ['long-unsigned', 'octet-string'] },
      access: 'no-access',
    },
  ],
};

/** IEC HDLC setup, `0-0:22.0.0.255` (docs/dlms.md §2; JDLMS IecHdlcSetupClassAttribute). */
export const IEC_HDLC_SETUP_CLASS: InterfaceClass = {
  classId: 23,
  version: 1,
  name: 'IEC HDLC setup',
  attributes: [
    LOGICAL_NAME_ATTRIBUTE,
    { index: 2, name: 'comm_speed', type: 'enum', access: 'read-only' },
    { index: 3, name: 'window_size_transmit', type: 'unsigned', access: 'read-only' },
    { index: 4, name: 'window_size_receive', type: 'unsigned', access: 'read-only' },
    { index: 5, name: 'max_info_field_length_transmit', type: 'long-unsigned', access: 'read-only' },
    { index: 6, name: 'max_info_field_length_receive', type: 'long-unsigned', access: 'read-only' },
    { index: 7, name: 'inter_octet_time_out', type: 'long-unsigned', access: 'read-only' },
    { index: 8, name: 'inactivity_time_out', type: 'long-unsigned', access: 'read-only' },
    { index: 9, name: 'device_address', type: 'long-unsigned', access: 'read-only' },
  ],
  methods: [],
};

/** key_transfer parameter: array of structure {enum key_id, octet-string key_wrapped}. */
export const KEY_TRANSFER_PARAM: AttrType = { arrayOf: { structure: ['enum', 'octet-string'] } };

/**
 * Security setup, `0-0:43.0.e.255` (docs/dlms.md §6), version 0: security_policy is the 0..3
 * enum that security/security-policy.ts implements. Methods 3..8 and attribute 6 (certificates)
 * belong to version 1 and suites 1/2, which this simulator does not offer.
 */
export const SECURITY_SETUP_CLASS: InterfaceClass = {
  classId: 64,
  version: 0,
  name: 'Security setup',
  attributes: [
    LOGICAL_NAME_ATTRIBUTE,
    { index: 2, name: 'security_policy', type: 'enum', access: 'read-only' },
    { index: 3, name: 'security_suite', type: 'enum', access: 'read-only', static: true },
    { index: 4, name: 'client_system_title', type: 'octet-string', access: 'read-only' },
    { index: 5, name: 'server_system_title', type: 'octet-string', access: 'read-only' },
  ],
  methods: [
    { index: 1, name: 'security_activate', paramType: 'enum', access: 'no-access' },
    { index: 2, name: 'key_transfer', paramType: KEY_TRANSFER_PARAM, access: 'no-access' },
  ],
};
