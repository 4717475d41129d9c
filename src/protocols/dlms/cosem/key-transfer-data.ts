import { ErrorCode, SimError } from '../../../core/errors';
import { axdr } from '../axdr/builders';
import type { Data } from '../axdr/types';
import type { KeyTransferEntry } from '../security/key-transfer';
import { isKeyId } from '../security/keys';

/**
 * The A-XDR binding of Security setup (64) method 2 key_transfer (docs/dlms.md §6; the security
 * layer works on plain {keyId, keyWrapped} objects): array of structure {enum key_id,
 * octet-string key_wrapped}.
 */
export function encodeKeyTransferParams(entries: readonly KeyTransferEntry[]): Data {
  return axdr.array(...entries.map((e) => axdr.struct(axdr.enum(e.keyId), axdr.octets(e.keyWrapped))));
}

function bad(path: string, message: string): never {
  throw new SimError(ErrorCode.DecodeInvalid, `${path}: ${message}`, { path });
}

/** Decode the parameter; DecodeInvalid (the server answers type-unmatched) names the path. */
export function decodeKeyTransferParams(
  d: Data,
  path = 'key_transfer',
): Array<{ keyId: number; keyWrapped: Buffer }> {
  if (d.type !== 'array') bad(path, `expected array, got ${d.type}`);
  return d.items.map((item, i) => {
    const p = `${path}[${i}]`;
    if (item.type !== 'structure' || item.items.length !== 2)
      bad(p, 'expected structure {key_id, key_wrapped}');
    const [id, wrapped] = item.items as [Data, Data];
    if (id.type !== 'enum') bad(`${p}.key_id`, `expected enum, got ${id.type}`);
    if (!isKeyId(id.value)) bad(`${p}.key_id`, `${id.value} is not a key id (0..3)`);
    if (wrapped.type !== 'octet-string')
      bad(`${p}.key_wrapped`, `expected octet-string, got ${wrapped.type}`);
    return { keyId: id.value, keyWrapped: wrapped.value };
  });
}
