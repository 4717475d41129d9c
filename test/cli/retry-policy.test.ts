import { retryPolicy, type ConnectFlags } from '../../src/cli/commands/connect-options';
import { DEFAULT_RETRY_POLICY, backoffDelay } from '../../src/migration/retry';

const flags = (connect: string, extra: Partial<ConnectFlags> = {}): ConnectFlags => ({ connect, ...extra });

describe('retryPolicy: --attempts and a preset session back-off', () => {
  it('without a preset: the default policy, --attempts applied', () => {
    expect(retryPolicy(flags('tcp://127.0.0.1:5000'))).toEqual(DEFAULT_RETRY_POLICY);
    expect(retryPolicy(flags('serial:/dev/ttyUSB0', { attempts: '3' }))).toEqual({
      ...DEFAULT_RETRY_POLICY,
      attempts: 3,
    });
  });

  it("a C12.18 meter on a preset port waits at least the preset's failedSessionBackoffMs between tries", () => {
    const p = retryPolicy(flags('serial:/dev/ttyUSB0?preset=ftdi', { attempts: '3' }));
    expect(p).toEqual({ attempts: 3, baseDelayMs: 7000, maxDelayMs: 8000 });
    // Longer than the meter's 6 s channel-traffic timeout on every retry.
    expect([1, 2].map((n) => backoffDelay(p, n))).toEqual([7000, 8000]);
  });

  it('a DLMS meter keeps the default back-off (the preset value is a C12.18 timing)', () => {
    expect(retryPolicy(flags('serial:/dev/ttyUSB0?preset=ftdi'), 'dlms')).toEqual(DEFAULT_RETRY_POLICY);
  });

  it('usage errors: a bad --attempts, an unknown preset', () => {
    expect(() => retryPolicy(flags('tcp://127.0.0.1:5000', { attempts: '0' }))).toThrow(
      expect.objectContaining({ codeName: 'UsageError' }),
    );
    expect(() => retryPolicy(flags('serial:/dev/ttyUSB0?preset=nope'))).toThrow(
      expect.objectContaining({ codeName: 'UsageError' }),
    );
  });
});
