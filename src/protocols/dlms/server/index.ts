/**
 * DLMS/COSEM server application layer (docs/dlms.md §4, §6, §7): associations with no security,
 * LLS or HLS-GMAC, GET/SET/ACTION over the object registry, block transfer, ciphering per the
 * security policy. See docs/dlms-implementation.md.
 */
export * from './apdu-channel';
export * from './config';
export * from './association';
export * from './session-crypto';
export * from './xdlms-dispatch';
export * from './builtin-objects';
export * from './server-session';
export * from './dlms-server';
