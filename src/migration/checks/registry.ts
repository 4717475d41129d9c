/**
 * Check codes -> check functions. Rule set files select checks by code; a code that is not
 * registered is an error naming the rule set file (ruleset.ts). User-defined checks are
 * registered in code (docs/migration.md "User-defined checks"): a registry is a value passed
 * to the loader and evaluator, not module state, so two callers never see each other's checks.
 */

import { ErrorCode, SimError } from '../../core/errors';
import { MA516, MA517 } from './card-issuer';
import { MA110 } from './eligible-product';
import { CHECK_CODE_PATTERN, type CheckDefinition } from './types';

export const BUILTIN_CHECKS: readonly CheckDefinition[] = Object.freeze([MA516, MA517, MA110]);

export class CheckRegistry {
  private readonly defs = new Map<string, CheckDefinition>();

  constructor(definitions: readonly CheckDefinition[] = []) {
    for (const d of definitions) this.register(d);
  }

  register(def: CheckDefinition): this {
    if (!CHECK_CODE_PATTERN.test(def.code)) {
      throw new SimError(
        ErrorCode.ConfigInvalid,
        `check code "${def.code}" must match ${String(CHECK_CODE_PATTERN)}`,
        {
          code: def.code,
        },
      );
    }
    if (this.defs.has(def.code)) {
      throw new SimError(ErrorCode.ConfigInvalid, `check ${def.code} is already registered`, {
        code: def.code,
      });
    }
    this.defs.set(def.code, def);
    return this;
  }

  get(code: string): CheckDefinition | undefined {
    return this.defs.get(code);
  }

  has(code: string): boolean {
    return this.defs.has(code);
  }

  codes(): string[] {
    return [...this.defs.keys()];
  }
}

/** A registry holding MA516, MA517, MA110 and any `extra` user-defined checks. */
export function createCheckRegistry(extra: readonly CheckDefinition[] = []): CheckRegistry {
  return new CheckRegistry([...BUILTIN_CHECKS, ...extra]);
}
