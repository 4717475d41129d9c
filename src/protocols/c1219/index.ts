/**
 * ANSI C12.19 tables for smets1-sim: layouts as data, the symmetric table codec (shared by the
 * meter and the client), and the meter-side table engine behind the C12.18 session.
 */
export * from './contract';
export * from './field-types';
export * from './ltime';
export * from './table-codec';
export * from './standard-layouts';
export * from './procedure-codec';
export * from './access-control';
export * from './engine-types';
export * from './password-auth';
export * from './standard-procedures';
export * from './gen-config';
export * from './builtin-tables';
export * from './table-engine';
