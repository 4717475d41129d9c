/**
 * COSEM application data view (docs/dlms.md §6): interface classes as data, access rights,
 * the object registry of a logical device, object_list, profile generic selective access and
 * the A-XDR binding of key_transfer.
 */
export * from './attr-types';
export * from './access';
export * from './interface-class';
export * from './classes-basic';
export * from './classes-comms';
export * from './classes-payment';
export * from './class-catalog';
export * from './context';
export * from './rights';
export * from './object-list';
export * from './object-registry';
export * from './profile-generic';
export * from './key-transfer-data';
