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

/** `$.a[2].b` for the error messages: built only when a value is refused. */
const at = (path: ReadonlyArray<string | number>) =>
  `$${path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('')}`;

// One string built by concatenation, the path kept as a stack of segments: epochs are encoded two or
// three times each (signature, hash, shape check), so this is on the mover's path (bench:dsm).
function write(value: unknown, path: Array<string | number>): string {
  if (value === null || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`canonical JSON: non-finite number at ${at(path)}`);
    return Object.is(value, -0) ? '0' : String(value);
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      path.push(i);
      if (item === undefined) throw new TypeError(`canonical JSON: undefined array item at ${at(path)}`);
      out += (i > 0 ? ',' : '') + write(item, path);
      path.pop();
    }
    return `${out}]`;
  }
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      throw new TypeError(`canonical JSON: only plain objects are allowed at ${at(path)}`);
    }
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).sort();
    let out = '{';
    let first = true;
    for (const k of keys) {
      const v = record[k];
      if (v === undefined) continue;
      path.push(k);
      out += `${first ? '' : ','}${JSON.stringify(k)}:${write(v, path)}`;
      path.pop();
      first = false;
    }
    return `${out}}`;
  }
  throw new TypeError(`canonical JSON: unsupported ${typeof value} at ${at(path)}`);
}

/** Canonical JSON text of `value` (see the module comment for the rules). Throws TypeError on unsupported values. */
export function canonicalJson(value: unknown): string {
  return write(value, []);
}

/** UTF-8 bytes of {@link canonicalJson}. */
export function canonicalBytes(value: unknown): Uint8Array {
  return encoder.encode(canonicalJson(value));
}
