import { axdr } from '../../../../src/protocols/dlms/axdr/builders';
import { DlmsClient } from '../../../../src/protocols/dlms/client';
import {
  HdlcClientLink,
  HdlcServerLink,
  WrapperClientLink,
  WrapperServerLink,
} from '../../../../src/protocols/dlms/link';
import { createMemPair } from '../../../../src/transport/mem';
import { buildMeter, GB, OBIS } from '../server/fixture';

/**
 * The application layer end to end over the real link stacks on an in-memory transport pair:
 * HDLC (docs/dlms.md §2, addresses client 16 / server 1/17, max info 128 so long answers are
 * segmented) and the TCP wrapper (§3). Timers run on the system clock but nothing here waits on
 * them: the mem transport delivers at once.
 */
describe('DLMS application layer over the link stacks', () => {
  it('HDLC over mem: associate, GET, ciphered HLS management session, object_list in segments', async () => {
    const meter = buildMeter({ extraObjects: 20 });
    const [a, b] = createMemPair({ maxChunk: 37 });
    const serverLink = new HdlcServerLink(b, { addresses: [{ logical: 1, physical: 17 }] });
    const detach = meter.server.attach(serverLink);
    const publicLink = new HdlcClientLink(a, { client: 16, server: { logical: 1, physical: 17 } });
    await publicLink.connect();
    const pub = new DlmsClient(publicLink, { timeoutMs: 10_000 });
    await pub.associate();
    expect(await pub.get({ classId: 1, obis: OBIS.icObject, index: 2 })).toEqual(axdr.u32(5009));
    await pub.release();
    await publicLink.disconnect();

    const mgmtLink = new HdlcClientLink(a, { client: 1, server: { logical: 1, physical: 17 } });
    await mgmtLink.connect();
    const mgmt = new DlmsClient(mgmtLink, { timeoutMs: 10_000 });
    await mgmt.associate({
      mechanism: 'high-gmac',
      security: { systemTitle: GB.clientSystemTitle, keys: { ek: GB.ek, ak: GB.ak }, sc: 0x30 },
    });
    expect(await mgmt.get({ classId: 3, obis: OBIS.energy, index: 2 })).toEqual(axdr.u32(123_456));
    const list = await mgmt.readObjectList();
    expect(list.length).toBe(meter.registry.visible('management').length);
    await mgmt.release();
    await mgmtLink.close();
    detach();
    await serverLink.close();
  });

  it('wrapper over mem: the link going away ends the association', async () => {
    const meter = buildMeter();
    const [a, b] = createMemPair();
    const serverLink = new WrapperServerLink(b, { serverAddresses: [1] });
    meter.server.attach(serverLink);
    const released: Array<string | undefined> = [];
    meter.server.on('released', (e) => released.push(e.association));
    const link = new WrapperClientLink(a, { client: 3, server: 1 });
    const dlms = new DlmsClient(link, { timeoutMs: 10_000 });
    await dlms.associate({ mechanism: 'low', secret: Buffer.from('12345678') });
    expect(await dlms.get({ classId: 111, obis: OBIS.account, index: 5 })).toEqual(axdr.i32(2000));
    await link.close();
    await new Promise<void>((r) => setImmediate(r));
    expect(released).toEqual(['reader']);
    await serverLink.close();
  });
});
