/**
 * ANSI C12.18 (PSEM over the optical port): packet framer, link, PSEM service codecs, the
 * meter-side server and the interrogator client. Behaviour and what is modelled:
 * docs/c1218-implementation.md; protocol facts: docs/c1218.md.
 */
export * from './constants';
export * from './packet';
export * from './packet-framer';
export * from './link';
export {
  LinkDriver,
  type LinkDriverEvents,
  type LinkDriverOptions,
  type WireEvent,
  type SendCallback,
} from './link-driver';
export * from './psem-requests';
export * from './psem-responses';
export * from './psem-codes';
export { PsemExchanger, type ExchangeOptions } from './psem-exchange';
export * from './server-session';
export {
  C1218Server,
  serveC1218,
  type C1218ServerEvents,
  type C1218ServerInit,
  type C1218ServerOptions,
  type C1218Service,
} from './server';
export {
  C1218Client,
  type C1218ClientOptions,
  type NegotiateResult,
  type SessionCredentials,
} from './client';
export * from './procedure-messages';
export * from './trace';
