/**
 * The library entry. Core utilities and transports are exported flat; every other layer as a
 * namespace, so names that recur across layers (DeviceType, DEVICE_TYPES, ...) never clash.
 */
export * from './core';
export * from './transport';
export * as c1218 from './protocols/c1218';
export * as c1219 from './protocols/c1219';
export * as axdr from './protocols/dlms/axdr';
export * as dlmsApdu from './protocols/dlms/apdu';
export * as dlmsSecurity from './protocols/dlms/security';
export * as hdlc from './protocols/dlms/hdlc';
export * as dlmsLink from './protocols/dlms/link';
export * as cosem from './protocols/dlms/cosem';
export * as dlmsServer from './protocols/dlms/server';
export * as dlmsClient from './protocols/dlms/client';
export * as device from './device';
export * as profiles from './profiles';
export * as migration from './migration';
export * as sim from './sim';
export * as farm from './farm';
export * as sweep from './sweep';
export * as hardware from './hardware';
