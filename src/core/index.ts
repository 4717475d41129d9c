export * from './errors';
export * from './bytes';
export * from './clock';
export * from './logger';
export * from './events';
export * from './crc16';
