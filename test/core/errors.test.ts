import {
  ErrorCode,
  SimError,
  isCommunicationError,
  isTransient,
  layerOf,
  toSimError,
} from '../../src/core/errors';

describe('SimError', () => {
  it('carries code, name, layer and context', () => {
    const e = new SimError(ErrorCode.TransportNotFound, 'serial:/dev/ttyUSB9: no such device', {
      uri: 'serial:/dev/ttyUSB9',
    });
    expect(e.code).toBe(103);
    expect(e.codeName).toBe('TransportNotFound');
    expect(e.layer).toBe('transport');
    expect(e.context).toEqual({ uri: 'serial:/dev/ttyUSB9' });
    expect(JSON.parse(JSON.stringify(e))).toEqual({
      code: 103,
      codeName: 'TransportNotFound',
      message: 'serial:/dev/ttyUSB9: no such device',
      context: { uri: 'serial:/dev/ttyUSB9' },
    });
  });

  it('maps every code to its layer by the hundreds digit', () => {
    expect(layerOf(ErrorCode.DecodeTruncated)).toBe('framing');
    expect(layerOf(ErrorCode.LinkTimeout)).toBe('link');
    expect(layerOf(ErrorCode.ServiceAccessDenied)).toBe('service');
    expect(layerOf(ErrorCode.SessionAuthFailed)).toBe('session');
    expect(layerOf(ErrorCode.DeviceInvalidIdentifier)).toBe('device');
    expect(layerOf(ErrorCode.ProfileInvalid)).toBe('profile');
    expect(layerOf(ErrorCode.MigrationRulesetInvalid)).toBe('migration');
    expect(layerOf(ErrorCode.FarmDuplicate)).toBe('farm');
    expect(layerOf(ErrorCode.UsageError)).toBe('usage');
    const codes = Object.values(ErrorCode);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('classifies transient and communication faults', () => {
    expect(isTransient(new SimError(ErrorCode.LinkTimeout, 't'))).toBe(true);
    expect(isTransient(new SimError(ErrorCode.ServiceBusy, 'bsy'))).toBe(true);
    expect(isTransient(new SimError(ErrorCode.SessionAuthFailed, 'bad password'))).toBe(false);
    expect(isTransient(new Error('plain'))).toBe(false);
    expect(isCommunicationError(new SimError(ErrorCode.TransportConnectionRefused, 'x'))).toBe(true);
    expect(isCommunicationError(new SimError(ErrorCode.DeviceInvalidOperation, 'x'))).toBe(false);
  });

  it('wraps foreign errors keeping the cause', () => {
    const cause = new Error('EACCES');
    const e = toSimError(cause, ErrorCode.TransportPermissionDenied, 'serial:/dev/ttyS0');
    expect(e.message).toBe('serial:/dev/ttyS0: EACCES');
    expect(e.cause).toBe(cause);
    expect(toSimError(e, ErrorCode.IoError)).toBe(e);
  });
});
