import * as lib from '../../src/index';

describe('library entry', () => {
  it('exports core and transports flat and every layer as a namespace', () => {
    expect(typeof lib.SimError).toBe('function');
    expect(typeof lib.connect).toBe('function');
    expect(typeof lib.c1218.C1218Client).toBe('function');
    expect(typeof lib.c1219.createTableEngine).toBe('function');
    expect(typeof lib.dlmsClient.DlmsClient).toBe('function');
    expect(typeof lib.device.validateMpanCore).toBe('function');
    expect(typeof lib.profiles.loadProfile).toBe('function');
    expect(typeof lib.migration.runMigrationFlow).toBe('function');
    expect(typeof lib.sim.startSimulator).toBe('function');
    expect(typeof lib.sweep.runSweep).toBe('function');
    expect(typeof lib.farm.Farm).toBe('function');
  });
});
