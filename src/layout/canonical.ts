/**
 * Canonical JSON: the byte encoding that epochs are hashed and signed over.
 *
 * Rules (the JSON subset of RFC 8785 "JCS" that epochs need): object keys sorted by UTF-16 code units,
 * properties whose value is `undefined` omitted, no whitespace, strings escaped as `JSON.stringify` does
 * (ES2019 well-formed), numbers finite and written as ECMAScript `Number.prototype.toString` does (which is
 * exactly specified, so identical on every engine; `-0` is written `0`). Arrays keep their order and may not
 * hold `undefined`. Only plain objects, arrays, strings, finite numbers, booleans and null are accepted:
 * Maps, class instances, byte arrays (use hex strings), bigints and functions throw.
 *
 * Why JSON and not MessagePack with sorted maps: a msgpack encoder may choose between float32/float64 and
 * several integer widths for the same value, so two conforming encoders can disagree on the bytes; the JSON
 * number form is fixed by the language spec. It is also readable in logs and in the admin API as it is.
 */

const encoder = new TextEncoder();

function write(value: unknown, out: string[], path: string): void {
  if (value === null || typeof value === 'boolean') {
    out.push(String(value));
    return;
  }
  if (typeof value === 'string') {
    out.push(JSON.stringify(value));
    return;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`canonical JSON: non-finite number at ${path}`);
    out.push(Object.is(value, -0) ? '0' : String(value));
    return;
  }
  if (Array.isArray(value)) {
    out.push('[');
    value.forEach((item, i) => {
      if (item === undefined) throw new TypeError(`canonical JSON: undefined array item at ${path}[${i}]`);
      if (i > 0) out.push(',');
      write(item, out, `${path}[${i}]`);
    });
    out.push(']');
    return;
  }
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      throw new TypeError(`canonical JSON: only plain objects are allowed at ${path}`);
    }
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record)
      .filter((k) => record[k] !== undefined)
      .sort();
    out.push('{');
    keys.forEach((k, i) => {
      if (i > 0) out.push(',');
      out.push(JSON.stringify(k), ':');
      write(record[k], out, `${path}.${k}`);
    });
    out.push('}');
    return;
  }
  throw new TypeError(`canonical JSON: unsupported ${typeof value} at ${path}`);
}

/** Canonical JSON text of `value` (see the module comment for the rules). Throws TypeError on unsupported values. */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  write(value, out, '$');
  return out.join('');
}

/** UTF-8 bytes of {@link canonicalJson}. */
export function canonicalBytes(value: unknown): Uint8Array {
  return encoder.encode(canonicalJson(value));
}
