/**
 * Minimal RFC 4180 CSV: quoted fields may hold commas, quotes ("" escapes) and line breaks;
 * records end at CRLF or LF. Each record keeps the physical line it starts on, so that errors
 * in registration and product files name the line a user sees in an editor.
 *
 * The reader never throws anything but SimError: the only file-level fault is a quote left
 * open at end of input, reported with the line where the field began.
 */

import { ErrorCode, SimError } from '../core/errors';

export interface CsvRecord {
  /** 1-based physical line where the record starts. */
  line: number;
  fields: string[];
}

export function parseCsv(text: string, source = 'csv'): CsvRecord[] {
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let quoted = false;
  let quoteLine = 0;
  let fieldStarted = false;
  // A leading byte-order mark is an editor artefact, not data.
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;

  const endRecord = (): void => {
    fields.push(field);
    // A blank line is no record (a single empty field with nothing else).
    if (!(fields.length === 1 && fields[0] === '' && !fieldStarted))
      records.push({ line: recordLine, fields });
    fields = [];
    field = '';
    fieldStarted = false;
  };

  for (; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
        }
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && field === '') {
      quoted = true;
      quoteLine = line;
      fieldStarted = true;
    } else if (c === ',') {
      fields.push(field);
      field = '';
      fieldStarted = true;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
      recordLine = line;
    } else {
      field += c;
    }
  }
  if (quoted) {
    throw new SimError(ErrorCode.DecodeInvalid, `${source}:${quoteLine}: quoted field is never closed`, {
      source,
      line: quoteLine,
    });
  }
  if (field !== '' || fields.length > 0 || fieldStarted) endRecord();
  return records;
}

/** Quote a field when it holds a separator, a quote or a line break. */
export function csvField(value: string | number | boolean | null | undefined): string {
  const s = value === null || value === undefined ? '' : String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Records joined with CRLF (RFC 4180), with a trailing CRLF. */
export function formatCsv(
  rows: ReadonlyArray<ReadonlyArray<string | number | boolean | null | undefined>>,
): string {
  return rows.map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}
