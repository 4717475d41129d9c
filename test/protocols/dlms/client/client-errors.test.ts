import { EventEmitter } from 'node:events';
import { ManualClock } from '../../../../src/core/clock';
import { ErrorCode, SimError } from '../../../../src/core/errors';
import { parseObis } from '../../../../src/protocols/dlms/apdu/obis';
import { axdr } from '../../../../src/protocols/dlms/axdr/builders';
import {
  DlmsClient,
  actionError,
  aareError,
  darError,
  exceptionError,
} from '../../../../src/protocols/dlms/client';
import { createMemApduPair, type ApduChannel } from '../../../../src/protocols/dlms/server';
import { KeyId, type KeyPeer } from '../../../../src/protocols/dlms/security';
import { buildMeter, GB, OBIS } from '../server/fixture';

describe('wire results become coded SimErrors (wire value in context)', () => {
  const ref = { classId: 1, obis: parseObis('0-0:96.1.0.255'), index: 2 };
  it.each([
    [3, ErrorCode.ServiceAccessDenied, 'read-write-denied'],
    [13, ErrorCode.ServiceAccessDenied, 'scope-of-access-violated'],
    [4, ErrorCode.ServiceObjectUndefined, 'object-undefined'],
    [9, ErrorCode.ServiceObjectUndefined, 'object-class-inconsistent'],
    [2, ErrorCode.ServiceBusy, 'temporary-failure'],
    [1, ErrorCode.ServiceOperationNotPossible, 'hardware-fault'],
    [11, ErrorCode.ServiceOperationNotPossible, 'object-unavailable'],
    [19, ErrorCode.ServiceBadSequence, 'data-block-number-invalid'],
    [12, ErrorCode.ServiceError, 'type-unmatched'],
    [250, ErrorCode.ServiceError, 'other'],
    [42, ErrorCode.ServiceError, 'unknown(42)'],
  ])('DAR %i', (dar, code, name) => {
    const e = darError(dar, 'get', ref);
    expect(e.code).toBe(code);
    expect(e.context).toEqual({
      service: 'get',
      dar,
      darName: name,
      classId: 1,
      obis: '0-0:96.1.0.255',
      index: 2,
    });
  });

  it('action results, exceptions and AAREs', () => {
    expect(actionError(16).code).toBe(ErrorCode.ServiceBadSequence);
    expect(actionError(16).context['resultName']).toBe('no-long-action');
    expect(actionError(3).code).toBe(ErrorCode.ServiceAccessDenied);
    expect(exceptionError({ type: 'exception-response', stateError: 1, serviceError: 5 }).code).toBe(
      ErrorCode.SessionCipherFailed,
    );
    const ic = exceptionError({
      type: 'exception-response',
      stateError: 1,
      serviceError: 6,
      invocationCounter: 9,
    });
    expect([ic.code, ic.context['invocationCounter']]).toEqual([ErrorCode.SessionReplay, 9]);
    expect(exceptionError({ type: 'exception-response', stateError: 1, serviceError: 2 }).code).toBe(
      ErrorCode.ServiceNotSupported,
    );
    expect(exceptionError({ type: 'exception-response', stateError: 2, serviceError: 1 }).code).toBe(
      ErrorCode.ServiceOperationNotPossible,
    );
    const base = { type: 'aare' as const, applicationContextName: 'LN' as const, result: 1 };
    expect(
      aareError({ ...base, resultSourceDiagnostic: { source: 'acse-service-user', value: 13 } }).code,
    ).toBe(ErrorCode.SessionAuthFailed);
    const v = aareError(
      { ...base, resultSourceDiagnostic: { source: 'acse-service-user', value: 1 } },
      { type: 'confirmed-service-error', service: 1, errorKind: 6, error: 1 },
    );
    expect([v.code, v.context['initiateError']]).toEqual([ErrorCode.SessionAssociationRejected, 1]);
  });
});

describe('DlmsClient behaviour', () => {
  it('fetches keys through a KeyStore callback', async () => {
    const meter = buildMeter();
    const pair = createMemApduPair({ client: 1, server: 1 });
    meter.server.attach(pair.server);
    const asked: Array<[string, number]> = [];
    const keyStore = (peer: KeyPeer, keyId: number): Promise<Buffer> => {
      asked.push([Buffer.from(peer as Uint8Array).toString('hex'), keyId]);
      if (keyId === KeyId.GlobalUnicastEncryption) return Promise.resolve(GB.ek);
      if (keyId === KeyId.Authentication) return Promise.resolve(GB.ak);
      return Promise.resolve(GB.kek);
    };
    const dlms = new DlmsClient(pair.client, { timeoutMs: 5000 });
    await dlms.associate({
      mechanism: 'high-gmac',
      security: { systemTitle: GB.clientSystemTitle, keyStore, serverSystemTitle: GB.serverSystemTitle },
    });
    expect(asked.map((a) => a[1]).sort()).toEqual([0, 2, 3]);
    expect(asked.every((a) => a[0] === '4d4d4d0000bc614e')).toBe(true);
    expect(await dlms.get({ classId: 3, obis: OBIS.energy, index: 2 })).toEqual(axdr.u32(123_456));
  });

  it('refuses to cipher without keys or a key store', async () => {
    const dlms = new DlmsClient(createMemApduPair().client);
    await expect(
      dlms.associate({ mechanism: 'high-gmac', security: { systemTitle: GB.clientSystemTitle } }),
    ).rejects.toMatchObject({
      code: ErrorCode.SessionKeyMissing,
    });
    await expect(dlms.associate({ mechanism: 'high-gmac' })).rejects.toMatchObject({
      code: ErrorCode.SessionKeyMissing,
    });
  });

  it('times out on the injected clock when nobody answers', async () => {
    const clock = new ManualClock();
    const pair = createMemApduPair();
    const dlms = new DlmsClient(pair.client, { clock, timeoutMs: 1000 });
    const p = dlms.associate();
    const caught = p.catch((e: unknown) => e);
    await new Promise<void>((r) => setImmediate(r));
    clock.advance(999);
    clock.advance(1);
    const e = (await caught) as SimError;
    expect(e.code).toBe(ErrorCode.LinkTimeout);
  });

  it('a closed link fails the waiting request and every later one', async () => {
    const pair = createMemApduPair();
    const dlms = new DlmsClient(pair.client, { timeoutMs: 60_000 });
    const p = dlms.associate().catch((e: unknown) => e);
    await new Promise<void>((r) => setImmediate(r));
    await pair.server.close();
    expect(((await p) as SimError).code).toBe(ErrorCode.LinkDisconnected);
    await expect(dlms.associate()).rejects.toMatchObject({ code: ErrorCode.LinkDisconnected });
  });

  it('needs an address', () => {
    const bare = Object.assign(new EventEmitter(), {
      kind: 'test',
      send: () => Promise.resolve(),
      close: () => Promise.resolve(),
    }) as unknown as ApduChannel;
    expect(() => new DlmsClient(bare)).toThrow(
      expect.objectContaining({ code: ErrorCode.ConfigInvalid }) as Error,
    );
  });
});
