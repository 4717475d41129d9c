import { ErrorCode, SimError } from '../../../core/errors';
import {
  CLOCK_CLASS,
  DATA_CLASS,
  EXTENDED_REGISTER_CLASS,
  PROFILE_GENERIC_CLASS,
  REGISTER_CLASS,
  SCRIPT_TABLE_CLASS,
} from './classes-basic';
import {
  ASSOCIATION_LN_CLASS,
  IEC_HDLC_SETUP_CLASS,
  SAP_ASSIGNMENT_CLASS,
  SECURITY_SETUP_CLASS,
} from './classes-comms';
import { ACCOUNT_CLASS, CHARGE_CLASS, CREDIT_CLASS, TOKEN_GATEWAY_CLASS } from './classes-payment';
import type { AttributeSpec, InterfaceClass, MethodSpec } from './interface-class';

/** Every interface class this simulator serves, by class id. */
export const INTERFACE_CLASSES: readonly InterfaceClass[] = [
  DATA_CLASS,
  REGISTER_CLASS,
  EXTENDED_REGISTER_CLASS,
  PROFILE_GENERIC_CLASS,
  CLOCK_CLASS,
  SCRIPT_TABLE_CLASS,
  ASSOCIATION_LN_CLASS,
  SAP_ASSIGNMENT_CLASS,
  IEC_HDLC_SETUP_CLASS,
  SECURITY_SETUP_CLASS,
  ACCOUNT_CLASS,
  CREDIT_CLASS,
  CHARGE_CLASS,
  TOKEN_GATEWAY_CLASS,
];

/** Class ids as named constants, for registrations and client calls. */
export const ClassId = {
  Data: 1,
  Register: 3,
  ExtendedRegister: 4,
  ProfileGeneric: 7,
  Clock: 8,
  ScriptTable: 9,
  AssociationLn: 15,
  SapAssignment: 17,
  IecHdlcSetup: 23,
  SecuritySetup: 64,
  Account: 111,
  Credit: 112,
  Charge: 113,
  TokenGateway: 115,
} as const;

const byId = new Map(INTERFACE_CLASSES.map((c) => [c.classId, c]));

export function findInterfaceClass(classId: number): InterfaceClass | undefined {
  return byId.get(classId);
}

/** The class row, or ProfileInvalid naming the unknown class (a registration error). */
export function interfaceClass(classId: number): InterfaceClass {
  const c = byId.get(classId);
  if (!c) {
    throw new SimError(ErrorCode.ProfileInvalid, `COSEM interface class ${classId} is not supported`, {
      path: 'classId',
      classId,
    });
  }
  return c;
}

export function attributeSpec(c: InterfaceClass, index: number): AttributeSpec | undefined {
  return c.attributes.find((a) => a.index === index);
}

export function methodSpec(c: InterfaceClass, index: number): MethodSpec | undefined {
  return c.methods.find((m) => m.index === index);
}

/** attribute name -> index (`attributeIndex(CLOCK_CLASS, 'time')` = 2); throws on unknown names. */
export function attributeIndex(c: InterfaceClass, name: string): number {
  const a = c.attributes.find((x) => x.name === name);
  if (!a) {
    throw new SimError(ErrorCode.ProfileInvalid, `${c.name} has no attribute '${name}'`, {
      classId: c.classId,
      name,
    });
  }
  return a.index;
}

export function methodIndex(c: InterfaceClass, name: string): number {
  const m = c.methods.find((x) => x.name === name);
  if (!m) {
    throw new SimError(ErrorCode.ProfileInvalid, `${c.name} has no method '${name}'`, {
      classId: c.classId,
      name,
    });
  }
  return m.index;
}
