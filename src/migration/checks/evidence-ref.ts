/**
 * Short references from a check's evidence to the wire evidence behind a result field, so a
 * report line says where a value was read (`c1219 read table 2049 [0+40]`) and the full bytes
 * can be found in the interrogation result's `evidence` list.
 */

import type { InterrogationField, InterrogationResult } from '../interrogation-schema';
import type { Evidence } from '../session';
import type { RegistrationRecord } from '../registration';

export function describeEvidence(e: Evidence): string {
  switch (e.kind) {
    case 'c1219-table': {
      const range = e.offset !== undefined ? ` [${e.offset}+${e.count ?? 0}]` : '';
      return `c1219 ${e.op} table ${e.tableId}${range}`;
    }
    case 'c1219-procedure':
      return `c1219 procedure ${e.procedureId}`;
    case 'cosem':
      return `cosem ${e.op} class ${e.classId} ${e.obis} #${e.index}`;
    case 'raw':
      return `raw ${e.label}`;
  }
}

/** All wire evidence for a result field, joined; null when the session gave none. */
export function wireRef(result: InterrogationResult, field: InterrogationField): string | null {
  const items = result.evidence.filter((e) => e.field === field).map((e) => describeEvidence(e.item));
  return items.length > 0 ? items.join('; ') : null;
}

export function registrationRef(record: RegistrationRecord): string {
  return `${record.source}:${record.line}`;
}

/** The reason a field is null, from the result's gaps. */
export function gapReason(result: InterrogationResult, field: InterrogationField): string {
  const gap = result.gaps.find((g) => g.field === field);
  return gap ? `${gap.error.codeName}: ${gap.error.message}` : 'not read';
}
