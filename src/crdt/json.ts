/** JSON values and their canonical form (sorted object keys at every level, no whitespace). */

export type JsonPrimitive = null | boolean | number | string;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A deep copy of `value` whose objects have their keys inserted in sorted (UTF-16 code unit) order,
 * so `JSON.stringify` of it is canonical. `undefined` members are dropped as JSON would.
 */
export function canonicalize(value: unknown): JsonValue {
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : canonicalize(v)));
  if (isJsonObject(value)) {
    // fromEntries defines own properties, so a "__proto__" member stays data, not a prototype.
    const entries: Array<[string, JsonValue]> = [];
    for (const key of Object.keys(value).sort()) {
      const v = value[key];
      if (v !== undefined) entries.push([key, canonicalize(v)]);
    }
    return Object.fromEntries(entries);
  }
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  return value as JsonPrimitive;
}

/** Canonical JSON text: sorted keys at every level, no whitespace; equal values give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonicalize(value));
}
