/** DLMS/COSEM client application layer (docs/dlms.md §4, §7); see docs/dlms-implementation.md. */
export * from './client-errors';
export * from './client-association';
export * from './dlms-client';
