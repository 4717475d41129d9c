/**
 * Parse a YAML (or JSON: YAML 1.2 reads it) data file and validate it with a zod schema,
 * turning every fault into one SimError that names the file, the line and the path, e.g.
 * `rulesets/mine.yaml:7: checks.1.scope.cohorts.0: unknown cohort "MOC"`.
 */

import { LineCounter, parseDocument, isNode } from 'yaml';
import type { z } from 'zod';
import { SimError, type ErrorCodeValue } from '../core/errors';

export interface SourcedIssue {
  path: string;
  line: number | null;
  message: string;
}

export interface Sourced<T> {
  value: T;
  /** Line of the node at `path` (or of its deepest existing ancestor); null if unknown. */
  lineOf(path: ReadonlyArray<string | number>): number | null;
}

export function parseYamlWith<T>(
  text: string,
  source: string,
  schema: z.ZodType<T>,
  code: ErrorCodeValue,
  what: string,
): T {
  return parseYamlSourced(text, source, schema, code, what).value;
}

export function parseYamlSourced<T>(
  text: string,
  source: string,
  schema: z.ZodType<T>,
  code: ErrorCodeValue,
  what: string,
): Sourced<T> {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const line = lines.linePos(first.pos[0]).line;
    throw new SimError(code, `${source}:${line}: not valid YAML: ${first.message.split('\n')[0]}`, {
      source,
      line,
    });
  }
  const lineOf = (path: ReadonlyArray<string | number>): number | null => {
    // The deepest node that exists on the path (a missing key points at its parent).
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
    }
    return null;
  };
  let value: unknown;
  try {
    // toJS throws on what the parser lets through: an alias to an unknown anchor, alias bombs.
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw new SimError(code, `${source}: not valid YAML: ${e instanceof Error ? e.message : String(e)}`, {
      source,
      line: null,
    });
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return { value: parsed.data, lineOf };
  const issues: SourcedIssue[] = parsed.error.issues.map((i) => {
    const path = i.path.map((p) => (typeof p === 'number' ? p : String(p)));
    return { path: path.length > 0 ? path.join('.') : '(root)', line: lineOf(path), message: i.message };
  });
  const first = issues[0]!;
  const text1 = issues
    .map((i) => `${i.line !== null ? `line ${i.line}: ` : ''}${i.path}: ${i.message}`)
    .join('; ');
  throw new SimError(
    code,
    `${source}${first.line !== null ? `:${first.line}` : ''}: invalid ${what}: ${text1}`,
    {
      source,
      line: first.line,
      issues,
    },
  );
}
