export * from './types';
export * from './timers';
export * from './hdlc-server';
export * from './hdlc-client';
export * from './wrapper-links';
export * from './mode-e-server';
export * from './mode-e-client';
