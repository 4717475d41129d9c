/**
 * Rule sets are data: a YAML file selects checks by code and scopes each one to cohorts and
 * device types (docs/migration.md "Rule set format"). Shipped: `rulesets/mehrs-5.0.yaml`
 * (MA516 + MA517 for MOC Secure, MA110 for all) and `rulesets/mehrs-5.1.yaml` (MA516 and
 * MA517 removed). Users add their own files; every code must be registered in the
 * CheckRegistry, and an unknown code is SimError MigrationRulesetInvalid naming the file.
 */

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { ErrorCode, SimError } from '../core/errors';
import { COHORTS, DEVICE_TYPES, parseCohort, type Cohort, type DeviceType } from './cohorts';
import { createCheckRegistry, type CheckRegistry } from './checks/registry';
import { parseYamlSourced } from './yaml-source';

export type Severity = 'block' | 'warn';

export interface RulesetCheck {
  code: string;
  scope: {
    /** Null: every cohort. */
    cohorts: readonly Cohort[] | null;
    /** Null: every device type the check is defined for. */
    deviceTypes: readonly DeviceType[] | null;
  };
  /** `block` (default): a fail blocks the installation. `warn`: reported only. */
  severity: Severity;
}

export interface Ruleset {
  id: string;
  name: string;
  /** A string, so that "5.0" stays "5.0". */
  version: string;
  description: string;
  /** Where the rules come from (document, date), for reports. */
  source: string;
  /** True when any of the rules is a model rather than published text. */
  modelled: boolean;
  /** The file it was loaded from. */
  file: string;
  checks: readonly RulesetCheck[];
}

const cohortSchema = z.string().transform((s, ctx) => {
  const c = parseCohort(s);
  if (!c) {
    ctx.addIssue({
      code: 'custom',
      message: `unknown cohort "${s}" (expected one of ${COHORTS.join(', ')})`,
    });
    return z.NEVER;
  }
  return c;
});

const RulesetFileSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'id: letters, digits, ".", "_", "-"'),
  name: z.string().min(1),
  version: z.string({ error: 'version must be a string (quote it: "5.0")' }).min(1),
  description: z.string().default(''),
  source: z.string().default(''),
  modelled: z.boolean().default(false),
  checks: z.array(
    z.strictObject({
      code: z.string().min(1),
      scope: z
        .strictObject({
          cohorts: z.array(cohortSchema).min(1).optional(),
          deviceTypes: z.array(z.enum(DEVICE_TYPES)).min(1).optional(),
        })
        .optional(),
      severity: z.enum(['block', 'warn']).default('block'),
    }),
  ),
});

const invalid = (
  file: string,
  line: number | null,
  reason: string,
  context: Record<string, unknown> = {},
): SimError =>
  new SimError(ErrorCode.MigrationRulesetInvalid, `${file}${line !== null ? `:${line}` : ''}: ${reason}`, {
    file,
    line,
    ...context,
  });

/** Parse a rule set file's text. `file` names it in every error. */
export function parseRuleset(
  text: string,
  file: string,
  registry: CheckRegistry = createCheckRegistry(),
): Ruleset {
  const { value: raw, lineOf } = parseYamlSourced(
    text,
    file,
    RulesetFileSchema,
    ErrorCode.MigrationRulesetInvalid,
    'rule set',
  );
  const seen = new Map<string, number>();
  const checks = raw.checks.map((c, i): RulesetCheck => {
    const line = lineOf(['checks', i, 'code']);
    const def = registry.get(c.code);
    if (!def) {
      throw invalid(file, line, `unknown check code "${c.code}" (known: ${registry.codes().join(', ')})`, {
        code: c.code,
      });
    }
    const first = seen.get(c.code);
    if (first !== undefined) {
      throw invalid(file, line, `check ${c.code} is listed twice (first at checks.${first})`, {
        code: c.code,
      });
    }
    seen.set(c.code, i);
    const deviceTypes = c.scope?.deviceTypes ? [...new Set(c.scope.deviceTypes)] : null;
    if (deviceTypes && def.deviceTypes !== 'all') {
      const defined = def.deviceTypes;
      if (!deviceTypes.some((t) => defined.includes(t))) {
        throw invalid(
          file,
          lineOf(['checks', i, 'scope', 'deviceTypes']),
          `check ${c.code} is defined for ${defined.join(', ')} only; scope.deviceTypes ${deviceTypes.join(', ')} would never apply`,
          { code: c.code },
        );
      }
    }
    return {
      code: c.code,
      scope: { cohorts: c.scope?.cohorts ? [...new Set(c.scope.cohorts)] : null, deviceTypes },
      severity: c.severity,
    };
  });
  return {
    id: raw.id,
    name: raw.name,
    version: raw.version,
    description: raw.description.trim(),
    source: raw.source.trim(),
    modelled: raw.modelled,
    file,
    checks,
  };
}

export async function loadRuleset(path: string, registry?: CheckRegistry): Promise<Ruleset> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw invalid(path, null, `cannot read: ${e instanceof Error ? e.message : String(e)}`);
  }
  return parseRuleset(text, path, registry);
}

export const BUILTIN_RULESET_IDS = ['mehrs-5.0', 'mehrs-5.1'] as const;
export type BuiltinRulesetId = (typeof BUILTIN_RULESET_IDS)[number];

/**
 * The shipped `rulesets/` folder: found by walking up from this module, which works from the
 * sources (src/migration) and from a build (dist/migration) inside the package.
 */
export function builtinRulesetsDir(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'rulesets');
    if (existsSync(join(candidate, `${BUILTIN_RULESET_IDS[0]}.yaml`))) return candidate;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new SimError(ErrorCode.MigrationRulesetInvalid, `shipped rule sets not found above ${__dirname}`, {
    from: __dirname,
  });
}

export function isBuiltinRulesetId(id: string): id is BuiltinRulesetId {
  return (BUILTIN_RULESET_IDS as readonly string[]).includes(id);
}

export async function loadBuiltinRuleset(id: BuiltinRulesetId, registry?: CheckRegistry): Promise<Ruleset> {
  return loadRuleset(join(builtinRulesetsDir(), `${id}.yaml`), registry);
}

/**
 * What a CLI `--ruleset` value means: a shipped id (`mehrs-5.0`) or a path to a user file.
 */
export async function resolveRuleset(idOrPath: string, registry?: CheckRegistry): Promise<Ruleset> {
  if (isBuiltinRulesetId(idOrPath)) return loadBuiltinRuleset(idOrPath, registry);
  return loadRuleset(resolve(idOrPath), registry);
}
