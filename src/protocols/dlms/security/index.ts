/**
 * DLMS/COSEM security suite 0 (docs/dlms.md §4.1, §7): AES-GCM-128 ciphering of xDLMS APDUs,
 * HLS mechanism 5 (GMAC), RFC 3394 key wrap for key_transfer, invocation counters and replay
 * protection, LLS secret checks, and key redaction for traces.
 */
export * from './security-control';
export * from './security-policy';
export * from './ciphered-tags';
export * from './ber-length';
export * from './gcm';
export * from './ciphered-apdu';
export * from './invocation-counter';
export * from './apdu-cipher';
export * from './hls-gmac';
export * from './keys';
export * from './key-transfer';
export * from './lls';
export * from './trace';
