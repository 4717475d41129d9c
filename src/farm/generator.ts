/**
 * Fleet generation: from a validated fleet file and the profiles it names to one MeterSpec
 * per meter. Deterministic: the output is a pure function of (fleet file, profiles), so the
 * same file and seed give a byte-identical fleet, and any shard can compute the whole plan on
 * its own and keep its part (shard.ts).
 *
 * - Every group draws from its own sub-seed (`<seed>/<group>`), so adding a group leaves the
 *   identities of the others alone.
 * - Identifiers come from the device layer's seeded generator (valid check digits by
 *   construction) and are unique across the fleet: hand-written identities are reserved
 *   first; a generated value that is already taken is skipped for the generator's next index
 *   (deterministically, in file order). Collisions are rare (the MPRN space holds 9×10^7).
 * - Shares are exact counts (seeded.ts): round(count × foreignCardShare) meters hold a card
 *   issued by another supplier, round(count × noCardShare) hold none, the rest hold a card of
 *   their Responsible Supplier.
 */
import { createHash } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { SimError } from '../core/errors';
import { createIdGenerator, type IdGenerator } from '../device/id-generator';
import { normalizeEui64, validatePaymentCardId } from '../device/identifiers';
import type { MeterIdentity } from '../device/state';
import { parseTransportUri } from '../transport/uri';
import { readCloneTemplate, TemplateError, type CloneTemplate } from './clone-template';
import { CredentialsError, credentialsFor } from './credentials';
import type { FarmProfile, ProfileResolver } from './farm-profile';
import {
  expandPattern,
  fleetError,
  fleetFileLines,
  type DeviceSpec,
  type FleetIssue,
  type FleetIssueAt,
  type FleetSpec,
  type GroupSpec,
} from './fleet-spec';
import type { FleetPlan, MeterCard, MeterEndpoint, MeterRegistration, MeterSpec } from './fleet-plan';
import { apportion, assignExact, SeededRandom, shareCount } from './seeded';

export type {
  FleetPlan,
  MeterCard,
  MeterCredential,
  MeterEndpoint,
  MeterRegistration,
  MeterSpec,
} from './fleet-plan';
export { planDigest } from './fleet-plan';

export interface GenerateOptions {
  /** File name for error messages. */
  file?: string;
  /**
   * Directory `template:` paths are relative to: default the fleet file's directory when `file`
   * is a path, else the working directory.
   */
  baseDir?: string;
}

/**
 * Prefix for a supplier with none configured: 9826 (MII 9 + country code 826, as on observed
 * GB cards, docs/domain.md §4) + six digits from SHA-256 of the supplier id. Modelled.
 */
export function derivedIssuerPrefix(supplierId: string): string {
  const n = createHash('sha256').update(`issuer:${supplierId}`).digest().readUInt32BE(0) % 1_000_000;
  return `9826${String(n).padStart(6, '0')}`;
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]']);

function uriHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** An ESME is registered by its MPAN core, a GSME by its MPRN. */
function registration(
  esme: boolean,
  mpxn: string,
  supplierId: string,
  siteId: string | null,
): MeterRegistration {
  return { mpxn, mpanCore: esme ? mpxn : null, mprn: esme ? null : mpxn, supplierId, siteId };
}

class Fail extends Error {
  constructor(readonly issue: FleetIssue) {
    super(issue.reason);
  }
}

function fail(path: string, reason: string, duplicate = false): never {
  throw new Fail(duplicate ? { path, reason, duplicate } : { path, reason });
}

/** Takes values from a seeded generator, skipping any already used in the fleet. */
class Unique {
  private readonly used = new Map<string, string>();

  /** Reserve a hand-written value; returns the earlier owner if taken. */
  reserve(value: string, owner: string): string | undefined {
    const prior = this.used.get(value);
    if (prior === undefined) this.used.set(value, owner);
    return prior;
  }

  take(owner: string, cursor: { i: number }, gen: (i: number) => string): string {
    for (;;) {
      const v = gen(cursor.i++);
      if (!this.used.has(v)) {
        this.used.set(v, owner);
        return v;
      }
    }
  }
}

interface Registry {
  ids: Unique;
  mpxn: Unique;
  eui: Unique;
  serial: Unique;
  card: Unique;
  site: Unique;
  endpoint: Unique;
}

class Generator {
  private readonly reg: Registry = {
    ids: new Unique(),
    mpxn: new Unique(),
    eui: new Unique(),
    serial: new Unique(),
    card: new Unique(),
    site: new Unique(),
    endpoint: new Unique(),
  };
  private readonly prefixes = new Map<string, string>();
  /** Templates by group name, and each file read once per run (two groups may share one). */
  private readonly templates: Record<string, CloneTemplate> = {};
  private readonly templateFiles = new Map<string, CloneTemplate>();
  /** Whether the last checked endpoint was already in canonical form (see group()). */
  private lastCanonical = false;

  constructor(
    private readonly spec: FleetSpec,
    private readonly profiles: ProfileResolver,
    private readonly baseDir: string,
  ) {}

  /** The group's template, checked against its profile; undefined without `template`. */
  private template(g: GroupSpec, at: string, profile: FarmProfile): CloneTemplate | undefined {
    if (g.template === undefined) return undefined;
    const path = resolve(this.baseDir, g.template);
    let t = this.templateFiles.get(path);
    if (!t) {
      try {
        t = readCloneTemplate(g.template, path);
      } catch (e) {
        if (e instanceof TemplateError || e instanceof SimError) fail(`${at}.template`, e.message);
        throw e;
      }
      this.templateFiles.set(path, t);
    }
    if (t.state.profileId !== profile.id)
      fail(
        `${at}.template`,
        `${g.template} is a meter of profile ${t.state.profileId}, not of the group's profile ${profile.id}`,
      );
    this.templates[g.name] = t;
    return t;
  }

  private profile(id: string, path: string): FarmProfile {
    try {
      return this.profiles(id);
    } catch (e) {
      return fail(path, e instanceof SimError ? e.message.split('\n')[0]! : String(e));
    }
  }

  /** Fleet file first, then the profile that first needs it, then the derived default. */
  private prefixOf(supplier: string, profile: FarmProfile): string {
    let p = this.prefixes.get(supplier);
    if (p === undefined) {
      p =
        this.spec.issuerPrefixes[supplier] ??
        profile.issuerPrefixes[supplier] ??
        derivedIssuerPrefix(supplier);
      this.prefixes.set(supplier, p);
    }
    return p;
  }

  private endpoint(
    t:
      | { kind: 'tcp-listen'; host: string; port: number; advertiseHost?: string | undefined }
      | { kind: 'pty'; path: string }
      | { kind: 'mem'; name: string },
    owner: string,
    path: string,
    trusted = false,
  ): MeterEndpoint {
    let listen: string;
    let connect: string;
    let key: string | undefined;
    if (t.kind === 'tcp-listen') {
      const advertised = t.advertiseHost ?? (WILDCARD_HOSTS.has(t.host) ? '127.0.0.1' : t.host);
      listen = `tcp-listen://${uriHost(t.host)}:${t.port}`;
      connect = `tcp://${uriHost(advertised)}:${t.port}`;
      // Port 0 is a fresh OS-assigned port per meter; a fixed port is claimed fleet-wide.
      if (t.port > 0) key = `tcp:${t.port}`;
    } else if (t.kind === 'pty') {
      listen = connect = `pty:${t.path}`;
      key = listen;
    } else {
      listen = connect = `mem:${t.name}`;
      key = listen;
    }
    if (!trusted) {
      const raw = { listen, connect };
      try {
        listen = parseTransportUri(listen).uri;
        // `tcp://HOST:0` is a placeholder until the listener is bound (a client cannot use port
        // 0), so only its host is checked here.
        if (connect.endsWith(':0')) parseTransportUri(`${connect.slice(0, -2)}:1`);
        else connect = parseTransportUri(connect).uri;
      } catch (e) {
        fail(path, e instanceof SimError ? e.message : String(e));
      }
      this.lastCanonical = raw.listen === listen && raw.connect === connect;
    }
    if (key !== undefined) {
      const prior = this.reg.endpoint.reserve(key, owner);
      if (prior !== undefined) fail(path, `endpoint ${listen} of ${owner} is also used by ${prior}`, true);
    }
    return { listen, connect };
  }

  run(): FleetPlan {
    // Reserve every hand-written identity first so generated ones steer around them.
    const devices = this.spec.devices.map((d, i) => this.reserveDevice(d, i));
    const meters: MeterSpec[] = [];
    this.spec.groups.forEach((g, gi) => this.group(g, gi, meters));
    const ids = createIdGenerator(`${this.spec.seed}/devices`);
    const cursors = { eui: { i: 0 }, serial: { i: 0 }, site: { i: 0 } };
    devices.forEach((d) => meters.push(this.device(d, meters.length, ids, cursors)));
    this.checkPrefixes();
    const issuerPrefixes: Record<string, string> = {};
    for (const k of [...this.prefixes.keys()].sort()) issuerPrefixes[k] = this.prefixes.get(k)!;
    const plan: FleetPlan = {
      version: 1,
      fleet: this.spec.fleet,
      seed: this.spec.seed,
      issuerPrefixes,
      meters,
    };
    if (Object.keys(this.templates).length > 0) plan.templates = this.templates;
    return plan;
  }

  private reserveDevice(d: DeviceSpec, i: number): { d: DeviceSpec; at: string; profile: FarmProfile } {
    const at = `devices[${i}]`;
    const owner = `${at} (id ${d.id})`;
    const profile = this.profile(d.profile, `${at}.profile`);
    this.reg.ids.reserve(d.id, owner);
    this.reg.mpxn.reserve((d.mpanCore ?? d.mprn)!, owner);
    if (d.deviceId !== undefined) this.reg.eui.reserve(normalizeEui64(d.deviceId), owner);
    if (d.serial !== undefined) this.reg.serial.reserve(d.serial, owner);
    if (d.card) this.reg.card.reserve(d.card.paymentCardId, owner);
    if (d.siteId !== undefined) this.reg.site.reserve(d.siteId, owner);
    return { d, at, profile };
  }

  private group(g: GroupSpec, gi: number, out: MeterSpec[]): void {
    const at = `groups[${gi}]`;
    const profile = this.profile(g.profile, `${at}.profile`);
    if (g.deviceType !== undefined && g.deviceType !== profile.deviceType)
      fail(`${at}.deviceType`, `is ${g.deviceType} but profile ${profile.id} is a ${profile.deviceType}`);
    if (g.link !== undefined && profile.firmware && profile.firmware.protocol.stack !== 'dlms')
      fail(
        `${at}.link`,
        `profile ${profile.id} speaks ${profile.firmware.protocol.stack}: link is for DLMS profiles`,
      );
    const template = this.template(g, at, profile);
    const seed = `${this.spec.seed}/${g.name}`;
    const ids = createIdGenerator(seed);

    const supplierIds = g.suppliers.map((s) => s.id);
    const supplierParts = apportion(
      g.count,
      g.suppliers.map((s) => s.weight),
    );
    const suppliers = assignExact(supplierIds, supplierParts, `${seed}/suppliers`);
    const foreign = shareCount(g.count, g.foreignCardShare);
    const none = shareCount(g.count, g.noCardShare);
    if (foreign + none > g.count)
      fail(`${at}.noCardShare`, `${foreign} foreign + ${none} without a card exceed ${g.count} meters`);
    const cards = assignExact(
      ['foreign', 'none', 'own'] as const,
      [foreign, none, g.count - foreign - none],
      `${seed}/cards`,
    );
    const issuersOf = (responsible: string): string[] =>
      (g.foreignIssuers ?? supplierIds).filter((s) => s !== responsible);
    if (foreign > 0)
      supplierIds.forEach((s, j) => {
        if (supplierParts[j]! > 0 && issuersOf(s).length === 0)
          fail(
            g.foreignIssuers ? `${at}.foreignIssuers` : `${at}.suppliers`,
            `no supplier other than ${s} can issue a foreign card: add suppliers or foreignIssuers, or set foreignCardShare: 0`,
          );
      });
    const issuerPick = new SeededRandom(`${seed}/issuers`);
    const cursors = { mpxn: { i: 0 }, eui: { i: 0 }, serial: { i: 0 }, card: { i: 0 }, site: { i: 0 } };
    const esme = profile.deviceType === 'ESME';

    let trustEndpoints = false;
    for (let k = 0; k < g.count; k++) {
      const id = `${g.name}-${k}`;
      const owner = `${at} (meter ${id})`;
      const prior = this.reg.ids.reserve(id, owner);
      if (prior !== undefined)
        fail(`${at}.name`, `meter id ${id} of ${owner} is also used by ${prior}`, true);
      const t = g.transport;
      const endpoint = this.endpoint(
        t.kind === 'tcp-listen'
          ? {
              kind: 'tcp-listen',
              host: t.host,
              port: t.portStart === 0 ? 0 : t.portStart + k,
              advertiseHost: t.advertiseHost,
            }
          : t.kind === 'pty'
            ? { kind: 'pty', path: expandPattern(t.pathPattern, k, id) }
            : { kind: 'mem', name: expandPattern(t.namePattern, k, id) },
        owner,
        `${at}.transport`,
        trustEndpoints,
      );
      // Parsing 10,000s of URIs dominates generation; once meter 0's URIs came back unchanged
      // from the parser, the rest of the group (which differ only in digits and id characters,
      // [A-Za-z0-9.-]) are canonical too.
      if (k === 0) trustEndpoints = this.lastCanonical;
      const supplierId = suppliers[k]!;
      const mpxn = this.reg.mpxn.take(
        owner,
        cursors.mpxn,
        esme ? (i) => ids.mpanCore(i) : (i) => ids.mprn(i),
      );
      const deviceId = this.reg.eui.take(owner, cursors.eui, (i) =>
        ids.deviceId(i, profile.identity.deviceIdOui),
      );
      const serial = this.reg.serial.take(owner, cursors.serial, (i) =>
        ids.serial(i, profile.identity.serialPrefix),
      );
      let card: MeterCard | null = null;
      const kind = cards[k]!;
      if (kind !== 'none') {
        let issuer = supplierId;
        if (kind === 'foreign') {
          const candidates = issuersOf(supplierId);
          issuer = candidates[issuerPick.below(candidates.length)]!;
        }
        const prefix = this.prefixOf(issuer, profile);
        const paymentCardId = this.reg.card.take(owner, cursors.card, (i) => ids.paymentCardId(i, prefix));
        card = { paymentCardId, issuerSupplierId: issuer, foreign: issuer !== supplierId };
      }
      // The device keeps "Site ID present whenever a card is" (src/device/invariants.ts).
      const siteId = card ? this.reg.site.take(owner, cursors.site, (i) => ids.siteId(i)) : null;
      out.push({
        index: out.length,
        id,
        group: g.name,
        profile: profile.id,
        deviceType: profile.deviceType,
        cohort: g.cohort,
        endpoint,
        identity: this.identity(profile, serial, deviceId),
        registration: registration(esme, mpxn, supplierId, siteId),
        card,
        credentials: credentialsFor(g.credentials, profile, this.spec.seed, id, `${at}.credentials`),
        ...(g.link !== undefined ? { link: g.link } : {}),
        ...(template ? { template: { file: template.file, sha256: template.sha256 } } : {}),
      });
    }
  }

  private identity(profile: FarmProfile, serial: string, deviceId: string): MeterIdentity {
    return {
      manufacturer: profile.identity.manufacturer,
      model: profile.identity.model,
      deviceType: profile.deviceType,
      serial,
      applicationFirmwareId: profile.identity.applicationFirmwareId,
      metrologyFirmwareId: profile.identity.metrologyFirmwareId,
      deviceId,
    };
  }

  private device(
    r: { d: DeviceSpec; at: string; profile: FarmProfile },
    index: number,
    ids: IdGenerator,
    cursors: { eui: { i: number }; serial: { i: number }; site: { i: number } },
  ): MeterSpec {
    const { d, at, profile } = r;
    const owner = `${at} (id ${d.id})`;
    const esme = profile.deviceType === 'ESME';
    if (esme && d.mpanCore === undefined)
      fail(`${at}.mprn`, `profile ${profile.id} is an ESME: give mpanCore`);
    if (!esme && d.mprn === undefined) fail(`${at}.mpanCore`, `profile ${profile.id} is a GSME: give mprn`);
    const endpoint = this.endpoint(d.transport, owner, `${at}.transport`);
    let card: MeterCard | null = null;
    if (d.card) {
      try {
        validatePaymentCardId(d.card.paymentCardId, profile.behaviour.paymentCard);
      } catch (e) {
        fail(
          `${at}.card.paymentCardId`,
          e instanceof SimError ? e.message.replace(/^paymentCardId: /, '') : String(e),
        );
      }
      card = { ...d.card, foreign: d.card.issuerSupplierId !== d.supplierId };
      this.prefixOf(d.card.issuerSupplierId, profile);
    }
    const siteId = d.siteId ?? (card ? this.reg.site.take(owner, cursors.site, (i) => ids.siteId(i)) : null);
    const deviceId =
      d.deviceId !== undefined
        ? normalizeEui64(d.deviceId)
        : this.reg.eui.take(owner, cursors.eui, (i) => ids.deviceId(i, profile.identity.deviceIdOui));
    const serial =
      d.serial ??
      this.reg.serial.take(owner, cursors.serial, (i) => ids.serial(i, profile.identity.serialPrefix));
    const mpxn = (d.mpanCore ?? d.mprn)!;
    return {
      index,
      id: d.id,
      group: null,
      profile: profile.id,
      deviceType: profile.deviceType,
      cohort: d.cohort,
      endpoint,
      identity: this.identity(profile, serial, deviceId),
      registration: registration(esme, mpxn, d.supplierId, siteId),
      card,
      credentials: credentialsFor(d.credentials, profile, this.spec.seed, d.id, `${at}.credentials`),
      ...(d.link !== undefined ? { link: d.link } : {}),
    };
  }

  /** A card must name one issuer: no supplier's prefix may be a prefix of another's. */
  private checkPrefixes(): void {
    const list = [...this.prefixes.entries()].sort(
      (a, b) => a[1].length - b[1].length || a[0].localeCompare(b[0]),
    );
    for (let i = 0; i < list.length; i++)
      for (let j = i + 1; j < list.length; j++) {
        const [sa, pa] = list[i]!;
        const [sb, pb] = list[j]!;
        if (pb.startsWith(pa))
          fail(
            `issuerPrefixes.${sb}`,
            `prefix ${pb} of ${sb} starts with prefix ${pa} of ${sa}: a card could not name its issuer`,
          );
      }
  }
}

/**
 * Generate the fleet. Throws SimError FarmFleetInvalid (or FarmDuplicate) naming the file and
 * path when the file and the profiles disagree (device type, access levels, a foreign share
 * with no other supplier to issue the cards, clashing endpoints or meter ids).
 */
export function generateFleet(
  spec: FleetSpec,
  profiles: ProfileResolver,
  options: GenerateOptions = {},
): FleetPlan {
  try {
    const file = options.file;
    const baseDir =
      options.baseDir ??
      (file !== undefined && !file.startsWith('<') ? dirname(resolve(file)) : process.cwd());
    return new Generator(spec, profiles, baseDir).run();
  } catch (e) {
    const file = options.file ?? '<fleet>';
    // Placed on its line when the fleet came from a file (parse errors already are).
    const at = (issue: FleetIssue): FleetIssueAt => {
      const line = file.startsWith('<') ? undefined : fleetFileLines(file)(issue.path);
      return { ...issue, file, ...(line === undefined ? {} : { line }) };
    };
    if (e instanceof CredentialsError) throw fleetError(file, [at({ path: e.path, reason: e.message })]);
    if (e instanceof Fail) throw fleetError(file, [at(e.issue)]);
    throw e;
  }
}
