/**
 * The shipped fleet files and Kubernetes manifests: every YAML parses, the kinds are the ones
 * the README describes, the shard count N agrees between the StatefulSet replicas, its --shard
 * argument and the sweep Job, and the fleet files validate and generate with the shipped
 * firmware profiles (with the exact counts their comments and the README state).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { firmwareProfileResolver } from '../../src/farm/farm-profile';
import { loadFleetFile, parseFleetText } from '../../src/farm/fleet-spec';
import { generateFleet } from '../../src/farm/generator';
import { manifestFromPlan } from '../../src/farm/manifest';
import { shareCount } from '../../src/farm/seeded';
import { parseRegistrationJson } from '../../src/migration/registration';

const ROOT = join(__dirname, '..', '..');
const K8S = join(ROOT, 'deploy', 'k8s');

type Doc = Record<string, unknown>;

function load(file: string): Doc[] {
  const docs = parseAllDocuments(readFileSync(join(K8S, file), 'utf8'));
  if (!Array.isArray(docs)) throw new Error(`${file}: not a YAML stream`);
  for (const d of docs) expect(d.errors).toEqual([]);
  return docs.map((d) => d.toJS() as Doc);
}

function get(o: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], o);
}

describe('deploy/k8s', () => {
  const files = readdirSync(K8S)
    .filter((f) => f.endsWith('.yaml'))
    .sort();

  it('holds the five manifests, each parsing to the expected kind', () => {
    expect(files).toEqual([
      'configmap-fleet.yaml',
      'job-sweep.yaml',
      'pvc-sweep-reports.yaml',
      'service-headless.yaml',
      'statefulset.yaml',
    ]);
    expect(files.map((f) => load(f).map((d) => `${String(d['apiVersion'])} ${String(d['kind'])}`))).toEqual([
      ['v1 ConfigMap'],
      ['batch/v1 Job'],
      ['v1 PersistentVolumeClaim'],
      ['v1 Service'],
      ['apps/v1 StatefulSet'],
    ]);
  });

  const [sts] = load('statefulset.yaml');
  const [job] = load('job-sweep.yaml');
  const [svc] = load('service-headless.yaml');
  const [cm] = load('configmap-fleet.yaml');
  const [pvc] = load('pvc-sweep-reports.yaml');

  it('replicas = N in --shard = completions = parallelism of the sweep', () => {
    const replicas = get(sts, 'spec.replicas');
    const farmArgs = (get(sts, 'spec.template.spec.containers') as Doc[])[0]!['args'] as string[];
    const sweepArgs = (get(job, 'spec.template.spec.containers') as Doc[])[0]!['args'] as string[];
    const shardN = (args: string[]): number[] =>
      [...args.join('\n').matchAll(/--shard "\$\{(ORDINAL|JOB_COMPLETION_INDEX)\}\/(\d+)"/g)].map((m) =>
        Number(m[2]),
      );
    expect(replicas).toBe(10);
    expect(shardN(farmArgs)).toEqual([replicas]);
    expect(shardN(sweepArgs)).toEqual([replicas]);
    expect(get(job, 'spec.completions')).toBe(replicas);
    expect(get(job, 'spec.parallelism')).toBe(replicas);
    expect(get(job, 'spec.completionMode')).toBe('Indexed');
  });

  it('the ordinal comes from the pod name and the pods advertise their headless-service name', () => {
    const args = ((get(sts, 'spec.template.spec.containers') as Doc[])[0]!['args'] as string[]).join('\n');
    expect(args).toContain('ORDINAL="${HOSTNAME##*-}"');
    expect(args).toContain('exec smets1-sim farm');
    expect(args).toContain(`--advertise-host "\${HOSTNAME}.${String(get(svc, 'metadata.name'))}"`);
    expect(get(sts, 'spec.serviceName')).toBe(get(svc, 'metadata.name'));
    expect(get(svc, 'spec.clusterIP')).toBe('None');
    expect(get(svc, 'spec.selector')).toEqual(get(sts, 'spec.selector.matchLabels'));
    expect((get(sts, 'spec.template.spec.containers') as Doc[])[0]!['image']).toBe('smets1-sim:latest');
  });

  it('each sweep index writes its report directory on the shared reports claim', () => {
    const container = (get(job, 'spec.template.spec.containers') as Doc[])[0]!;
    const args = (container['args'] as string[]).join('\n');
    expect(args).toContain('--report "/reports/shard-${JOB_COMPLETION_INDEX}"');
    expect(container['volumeMounts']).toContainEqual({ name: 'reports', mountPath: '/reports' });
    expect(get(job, 'spec.template.spec.volumes')).toContainEqual({
      name: 'reports',
      persistentVolumeClaim: { claimName: get(pvc, 'metadata.name') },
    });
    expect(get(pvc, 'spec.accessModes')).toEqual(['ReadWriteMany']);
  });

  it('the farm pods mount the fleet ConfigMap and get the API token from a Secret', () => {
    const volumes = get(sts, 'spec.template.spec.volumes') as Doc[];
    expect(volumes).toContainEqual({ name: 'fleet', configMap: { name: get(cm, 'metadata.name') } });
    const env = (get(sts, 'spec.template.spec.containers') as Doc[])[0]!['env'] as Doc[];
    expect(env).toContainEqual({
      name: 'SMETS1_FARM_TOKEN',
      valueFrom: { secretKeyRef: { name: 'smets1-farm-token', key: 'token' } },
    });
  });

  it('the ConfigMap fleet is a valid 100,000-meter fleet with 1,876 foreign cards', () => {
    const spec = parseFleetText((get(cm, 'data') as Doc)['fleet.yaml'] as string, 'configmap-fleet.yaml');
    const counts = spec.groups.map((g) => g.count);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(100_000);
    expect(spec.groups.map((g) => shareCount(g.count, g.foreignCardShare))).toEqual([938, 188, 750]);
    // Every profile exists and has the device type the group declares (generating all 100,000
    // meters is left to the pods; the fleets/ tests generate with the same profiles).
    const resolve = firmwareProfileResolver();
    expect(spec.groups.map((g) => [g.deviceType, resolve(g.profile).deviceType])).toEqual([
      ['ESME', 'ESME'],
      ['ESME', 'ESME'],
      ['GSME', 'GSME'],
    ]);
    // 10 replicas x 10,000 meters: the per-process budget of the farm bench.
    expect(100_000 / (get(sts, 'spec.replicas') as number)).toBe(10_000);
  });
});

describe('fleets/', () => {
  const profiles = firmwareProfileResolver();

  it('example.yaml generates 32 meters with the shipped profiles', () => {
    const file = join(ROOT, 'fleets', 'example.yaml');
    const plan = generateFleet(loadFleetFile(file), profiles, { file });
    expect(plan.meters).toHaveLength(32);
    const foreign = (group: string | null): number =>
      plan.meters.filter((m) => m.group === group && m.card?.foreign).length;
    expect([foreign('l100-g04'), foreign('l100-g05'), foreign('l110'), foreign(null)]).toEqual([3, 2, 3, 1]);
    const lab = plan.meters.find((m) => m.id === 'lab-esme-1')!;
    expect(lab.endpoint.connect).toBe('tcp://127.0.0.1:7300');
    expect(lab.credentials.find((c) => c.level === 'engineering')!.secretHex).toBe(
      Buffer.from('246810').toString('hex'),
    );
    const reg = parseRegistrationJson(JSON.stringify(manifestFromPlan(plan).registration));
    expect(reg.errors).toEqual([]);
    expect(reg.records).toHaveLength(32);
  });

  it('demo.yaml generates 1,000 meters with a visible foreign share in MOC Secure and IOC', () => {
    const file = join(ROOT, 'fleets', 'demo.yaml');
    const plan = generateFleet(loadFleetFile(file), profiles, { file });
    expect(plan.meters).toHaveLength(1000);
    const by = (cohort: string): number =>
      plan.meters.filter((m) => m.cohort === cohort && m.card?.foreign).length;
    expect(by('MOC Secure')).toBe(45 + 10 + 35);
    expect(by('IOC')).toBe(10);
    expect(plan.meters.filter((m) => m.deviceType === 'GSME')).toHaveLength(350);
  });
});
