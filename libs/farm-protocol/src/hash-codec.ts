/**
 * Records are Redis hashes with one field per property, so `redis-cli HGETALL`
 * stays readable and Lua scripts can read `state` or `attempt` directly. Scalars
 * are stored as plain strings; arrays and objects as JSON.
 */
export type FieldKind = 'string' | 'number' | 'boolean' | 'json';

export type HashSchema<T> = { [K in keyof T]-?: FieldKind };

export function encodeFields<T>(schema: HashSchema<T>, values: Partial<T>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(values) as Array<keyof T & string>) {
    const value = values[key];
    if (value === undefined) continue;
    const kind = schema[key];
    if (kind === 'boolean') out[key] = value ? '1' : '0';
    else if (kind === 'json') out[key] = JSON.stringify(value);
    else out[key] = String(value);
  }
  return out;
}

export function decodeFields<T>(schema: HashSchema<T>, hash: Record<string, string>): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(schema) as Array<keyof T & string>) {
    const raw = hash[key];
    if (raw === undefined) continue;
    const kind = schema[key];
    if (kind === 'number') out[key] = Number(raw);
    else if (kind === 'boolean') out[key] = raw === '1';
    else if (kind === 'json') out[key] = JSON.parse(raw) as unknown;
    else out[key] = raw;
  }
  return out as Partial<T>;
}
