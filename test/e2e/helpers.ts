/**
 * End-to-end helpers: run the CLI in-process through main(argv, io) and capture its output,
 * start simulated meters on real transports (pty, TCP on loopback), and write the input files a
 * migration needs (DCC registration data, an eligible product list) into a fresh temp dir.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main';
import type { Io } from '../../src/cli/output';
import { loadProfile } from '../../src/profiles/loader';
import { secretBytes } from '../../src/profiles/device-binding';
import { startSimulator, type Simulator } from '../../src/sim/simulator';

export const ESME = 'secure-liberty100-esme-p4x2g04';
export const ESME_G05 = 'secure-liberty100-esme-p4x2g05';
export const GSME = 'secure-liberty110-gsme-g1x2g01';

export interface CliRun {
  code: number;
  out: string;
  err: string;
  /** stdout parsed as JSON (for --json runs). */
  json<T = Record<string, unknown>>(): T;
}

export async function cli(...args: string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (t) => void out.push(t), err: (t) => void err.push(t) };
  const code = await main(['node', 'smets1-sim', ...args], io);
  const o = out.join('\n');
  return { code, out: o, err: err.join('\n'), json: <T>() => JSON.parse(o) as T };
}

const dirs: string[] = [];

/** A fresh temp dir, removed by removeTempDirs() (call it in afterAll, after closing simulators). */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'smets1-e2e-'));
  dirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export type Kind = 'pty' | 'tcp';

let ptyCounter = 0;
export async function simulator(
  kind: Kind,
  dir: string,
  profileId: string,
  o: { card?: string; supplierId?: string; seed?: number } = {},
): Promise<Simulator> {
  const listen = kind === 'pty' ? `pty:${join(dir, `meter-${++ptyCounter}`)}` : 'tcp-listen://127.0.0.1:0';
  return startSimulator({
    profileId,
    listen,
    ...(o.card !== undefined ? { card: o.card } : {}),
    ...(o.supplierId !== undefined ? { supplierId: o.supplierId } : {}),
    seed: o.seed ?? 7,
  });
}

/** DCC's registration row for the simulated meter: its meter point -> supplier, cohort. */
export function registrationFile(
  dir: string,
  sim: Simulator,
  supplierId: string,
  cohort: string,
  name = 'reg',
): string {
  const r = sim.meter.readRegistration();
  const path = join(dir, `${name}-${sim.meter.readIdentity().serial}.csv`);
  writeFileSync(path, `mpxn,supplier_id,cohort\n${r.mpanCore ?? r.mprn},${supplierId},${cohort}\n`);
  return path;
}

/** An eligible product list (MA110) holding the shipped profiles' model + firmware. */
export function productsFile(dir: string): string {
  const path = join(dir, 'products.yaml');
  const lines = [ESME, ESME_G05, GSME].map((id) => {
    const p = loadProfile(id).profile;
    return `  - { manufacturer: ${p.identity.manufacturer}, model: ${p.identity.model}, firmware: ${p.identity.applicationFirmwareId} }`;
  });
  writeFileSync(path, `id: e2e-products\nproducts:\n${lines.join('\n')}\n`);
  return path;
}

/** --level/--password-hex flags with the profile's default secret of a level. */
export function login(profileId: string, level: string): string[] {
  const l = loadProfile(profileId).profile.accessLevels.find((x) => x.name === level)!;
  return ['--level', level, '--password-hex', secretBytes(l).toString('hex')];
}
