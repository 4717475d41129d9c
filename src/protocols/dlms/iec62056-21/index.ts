export * from './baud';
export * from './messages';
export * from './framer';
export * from './echo';
export * from './server-signon';
