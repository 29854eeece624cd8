// A small RFC 4180 reader: comma-separated fields, CRLF or LF between records, double quotes around
// fields that hold commas, quotes ("" inside) or line breaks. A UTF-8 byte order mark (Excel writes
// one) is dropped. Like Excel, a stray quote inside an unquoted field is kept as text.
import { RegistryError } from './errors.ts';

export interface CsvRecord {
  fields: string[];
  /** Line of the file on which the record starts, from 1. */
  line: number;
}

export function parseCsv(input: string): CsvRecord[] {
  const text = input.startsWith('\uFEFF') ? input.slice(1) : input;
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let i = 0;

  const endField = () => {
    fields.push(field);
    field = '';
  };
  const endRecord = () => {
    endField();
    // A blank line is not a record (spreadsheets leave them at the end of a file).
    if (fields.length > 1 || fields[0] !== '') records.push({ fields, line: recordLine });
    fields = [];
    recordLine = line;
  };

  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '"' && field === '') {
      const openedOn = line;
      i += 1;
      for (;;) {
        if (i >= text.length) {
          throw new RegistryError('invalid_roster', `line ${openedOn}: a quoted field is never closed`);
        }
        const c = text[i]!;
        if (c === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i += 1;
          break;
        }
        if (c === '\n') line += 1;
        field += c;
        i += 1;
      }
      continue;
    }
    if (ch === ',') {
      endField();
      i += 1;
    } else if (ch === '\r' && text[i + 1] === '\n') {
      line += 1;
      i += 2;
      endRecord();
    } else if (ch === '\n') {
      line += 1;
      i += 1;
      endRecord();
    } else {
      field += ch;
      i += 1;
    }
  }
  if (field !== '' || fields.length > 0) endRecord();
  return records;
}
