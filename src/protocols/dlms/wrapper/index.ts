export * from './header';
export * from './framer';
