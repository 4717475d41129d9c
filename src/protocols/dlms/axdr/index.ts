export * from './types';
export * from './length';
export * from './limits';
export * from './simple-values';
export * from './compact-array';
export * from './data-codec';
export * from './date-time';
export * from './builders';
