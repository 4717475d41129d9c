import { ManualClock } from '../../../../src/core/clock';
import { fromHex } from '../../../../src/core/bytes';
import { parseObis } from '../../../../src/protocols/dlms/apdu/obis';
import { axdr } from '../../../../src/protocols/dlms/axdr/builders';
import { cosemDateTimeFromDate } from '../../../../src/protocols/dlms/axdr/date-time';
import type { Data } from '../../../../src/protocols/dlms/axdr/types';
import {
  ClassId,
  CosemRegistry,
  profileGenericObject,
  refuse,
  type ProfileRow,
} from '../../../../src/protocols/dlms/cosem';
import {
  DlmsServer,
  type AssociationConfig,
  type LogicalDeviceConfig,
  type SecuritySetupConfig,
} from '../../../../src/protocols/dlms/server';
import {
  MemoryInvocationCounters,
  applyKeyTransfer,
  type KeySet,
  type SecurityPolicyV0Value,
} from '../../../../src/protocols/dlms/security';

/**
 * A small simulated meter for the DLMS application-layer tests: one logical device (SAP 1),
 * three associations (public 16 / none, reader 3 / LLS, management 1 / HLS-GMAC) and the GB test
 * keys of docs/dlms.md §7 (Table 40 / 43).
 */
export const GB = {
  /** Global unicast encryption key 00 01 .. 0F (GB Table 40). */
  ek: fromHex('000102030405060708090A0B0C0D0E0F'),
  /** Authentication key D0 .. DF (GB Table 40). */
  ak: fromHex('D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF'),
  /** Master key: modelled test value, not from a GB table. */
  kek: fromHex('101112131415161718191A1B1C1D1E1F'),
  serverSystemTitle: fromHex('4D4D4D0000BC614E'),
  clientSystemTitle: fromHex('4D4D4D0000000001'),
};

export const LLS_SECRET = Buffer.from('12345678', 'latin1');
export const SECURITY_SETUP = '0-0:43.0.0.255';

export const OBIS = {
  deviceName: '0-0:42.0.0.255',
  icObject: '0-0:43.1.0.255',
  serial: '0-0:96.1.0.255',
  energy: '1-0:1.8.0.255',
  clock: '0-0:1.0.0.255',
  profile: '1-0:99.1.0.255',
  account: '0-0:19.0.0.255',
  credit: '0-0:19.10.0.255',
  tokenGateway: '0-0:19.40.0.255',
  hdlcSetup: '0-0:22.0.0.255',
  note: '0-0:96.60.0.255',
};

export interface MeterState {
  energyWh: number;
  credit: number;
  tokens: Buffer[];
  tokenStatus: number;
  keys: KeySet;
  policy: SecurityPolicyV0Value;
  ownLastIc: number | undefined;
  secret: Buffer;
  clockWrites: Buffer[];
  note: Data;
}

export interface MeterOptions {
  /** Extra manufacturer-specific Data objects 0-0:96.50.x.255 visible to management (object_list size). */
  readonly extraObjects?: number;
  /** Fixed StoC challenge (GB Table 43 uses "P6wRJ21F"). */
  readonly stoc?: Buffer;
  /** The server's last sending IC (Table 43's server IC is 01234567, so 01234566 here). */
  readonly ownLastIc?: number;
  readonly maxReceivePduSize?: number;
}

export interface Meter {
  readonly server: DlmsServer;
  readonly registry: CosemRegistry;
  readonly state: MeterState;
  readonly clock: ManualClock;
  readonly peerCounters: MemoryInvocationCounters;
  readonly device: LogicalDeviceConfig;
}

/** Profile columns: clock time and the energy register value. */
export const PROFILE_COLUMNS = [
  { classId: 8, obis: parseObis(OBIS.clock), attributeId: 2, dataIndex: 0 },
  { classId: 3, obis: parseObis(OBIS.energy), attributeId: 2, dataIndex: 0 },
];

/** 2026-01-01 00:00 UTC + i half hours, energy 1000 + 10 i. */
export function profileRows(n = 10): ProfileRow[] {
  const rows: ProfileRow[] = [];
  for (let i = 0; i < n; i++) {
    const at = new Date(Date.UTC(2026, 0, 1, 0, 30 * i));
    rows.push([axdr.dateTimeOctets(cosemDateTimeFromDate(at)), axdr.u32(1000 + 10 * i)]);
  }
  return rows;
}

export function buildMeter(opts: MeterOptions = {}): Meter {
  const clock = new ManualClock(Date.UTC(2026, 0, 24, 14, 48, 57));
  const state: MeterState = {
    energyWh: 123_456,
    credit: 2_000,
    tokens: [],
    tokenStatus: 0,
    keys: {
      systemTitle: GB.serverSystemTitle,
      ek: GB.ek,
      ak: GB.ak,
      kek: GB.kek,
    },
    policy: 0,
    ownLastIc: opts.ownLastIc,
    secret: LLS_SECRET,
    clockWrites: [],
    note: axdr.octets(Buffer.alloc(0)),
  };
  const registry = new CosemRegistry();
  const peerCounters = new MemoryInvocationCounters();
  const all = { public: 'read-only', reader: 'read-only', management: 'class-default' } as const;

  registry.add({
    classId: ClassId.Data,
    obis: OBIS.deviceName,
    attributes: { 2: { get: () => axdr.octets(Buffer.from('ISK1030777764366', 'latin1')) } },
    access: all,
  });
  // docs/dlms.md §4.2 / §8C: GET 0-0:43.1.0.255 attribute 2 answers uint32 5009.
  registry.add({
    classId: ClassId.Data,
    obis: OBIS.icObject,
    attributes: { 2: { get: () => axdr.u32(5009) } },
    access: all,
  });
  registry.add({
    classId: ClassId.Data,
    obis: OBIS.serial,
    attributes: { 2: { get: () => axdr.visible('SMETS1-000042') } },
    // Not for the public client.
    access: { reader: 'read-only', management: 'read-only' },
  });
  registry.add({
    classId: ClassId.Register,
    obis: OBIS.energy,
    attributes: {
      2: { get: () => axdr.u32(state.energyWh) },
      3: { get: () => axdr.struct(axdr.i8(0), axdr.enum(30)) },
    },
    methods: {
      1: () => {
        state.energyWh = 0;
      },
    },
    access: { ...all, management: { base: 'class-default', methods: { 1: 'access' } } },
  });
  registry.add({
    classId: ClassId.Clock,
    obis: OBIS.clock,
    attributes: {
      2: {
        get: () => axdr.dateTimeOctets(cosemDateTimeFromDate(new Date(clock.now()))),
        set: (v) => {
          if (v.type === 'octet-string') state.clockWrites.push(v.value);
        },
      },
      3: { get: () => axdr.i16(0) },
      4: { get: () => axdr.u8(0) },
    },
    access: { ...all, management: { base: 'class-default', attributes: { 2: 'read-write' } } },
  });
  registry.add(
    profileGenericObject({
      obis: OBIS.profile,
      columns: PROFILE_COLUMNS,
      rows: () => profileRows(),
      capturePeriod: 1800,
      profileEntries: 100,
      access: { reader: 'read-only', management: 'read-only' },
    }),
  );
  registry.add({
    classId: ClassId.Account,
    obis: OBIS.account,
    attributes: {
      // payment mode 2 prepayment, account status 2 active (docs/dlms.md §6 Account).
      2: { get: () => axdr.struct(axdr.enum(2), axdr.enum(2)) },
      3: { get: () => axdr.u8(0) },
      5: { get: () => axdr.i32(state.credit) },
      8: { get: () => axdr.i32(150) },
      15: { get: () => axdr.struct(axdr.visible('GBP'), axdr.i8(-2), axdr.enum(10)) },
    },
    access: { reader: 'read-only', management: 'read-only' },
  });
  registry.add({
    classId: ClassId.Credit,
    obis: OBIS.credit,
    attributes: {
      2: { get: () => axdr.i32(state.credit) },
      3: { get: () => axdr.enum(0) },
      8: { get: () => axdr.enum(3) },
    },
    access: { reader: 'read-only', management: 'read-only' },
  });
  registry.add({
    classId: ClassId.TokenGateway,
    obis: OBIS.tokenGateway,
    attributes: {
      2: { get: () => axdr.octets(state.tokens.at(-1) ?? Buffer.alloc(0)) },
      6: { get: () => axdr.struct(axdr.enum(state.tokenStatus), axdr.bits(8, Buffer.from([0]))) },
    },
    methods: {
      // Modelled token format for the tests: 4 octets, a big-endian credit amount to add.
      1: async (params: Data | undefined) => {
        if (params?.type !== 'octet-string' || params.value.length !== 4) {
          state.tokenStatus = 4;
          return refuse('other');
        }
        await Promise.resolve();
        state.credit += params.value.readUInt32BE(0);
        state.tokens.push(params.value);
        state.tokenStatus = 3;
      },
    },
    access: { reader: 'read-only', management: { base: 'read-only', methods: { 1: 'access' } } },
  });
  // A writable value for SET tests (management only).
  registry.add({
    classId: ClassId.Data,
    obis: OBIS.note,
    attributes: {
      2: {
        get: () => state.note,
        set: async (v) => {
          await Promise.resolve();
          state.note = v;
        },
      },
    },
    access: { management: { base: 'class-default', attributes: { 2: 'read-write' } } },
  });
  for (let i = 0; i < (opts.extraObjects ?? 0); i++) {
    registry.add({
      classId: ClassId.Data,
      obis: `0-0:96.50.${i % 250}.${Math.floor(i / 250)}`,
      attributes: { 2: { get: () => axdr.u32(i) } },
      access: { management: 'read-only' },
    });
  }

  const security: SecuritySetupConfig = {
    obis: SECURITY_SETUP,
    policy: () => state.policy,
    activatePolicy: async (p) => {
      await Promise.resolve();
      state.policy = p;
    },
    keys: () => state.keys,
    installKeys: async (keys) => {
      await Promise.resolve();
      state.keys = applyKeyTransfer(state.keys, keys);
    },
    ownCounter: {
      getLastIc: () => state.ownLastIc,
      setLastIc: (ic) => {
        state.ownLastIc = ic;
      },
    },
    peerCounters,
    access: {
      management: { base: 'read-only', methods: { 1: 'access', 2: 'access' } },
    },
  };
  const associations: AssociationConfig[] = [
    { name: 'public', clientSap: 16, mechanism: 'none' },
    { name: 'reader', clientSap: 3, mechanism: 'low', secret: () => state.secret },
    { name: 'management', clientSap: 1, mechanism: 'high-gmac', securitySetup: SECURITY_SETUP },
  ];
  const device: LogicalDeviceConfig = {
    sap: 1,
    registry,
    associations,
    securitySetups: [security],
    maxReceivePduSize: opts.maxReceivePduSize ?? 1024,
  };
  const stoc = opts.stoc;
  const server = new DlmsServer({
    logicalDevices: [device],
    ...(stoc ? { rng: (n: number) => Buffer.from(stoc.subarray(0, n)), challengeLength: stoc.length } : {}),
  });
  return { server, registry, state, clock, peerCounters, device };
}

/** Let in-flight mem deliveries (setImmediate) land. */
export async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}
