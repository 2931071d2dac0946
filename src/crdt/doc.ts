/**
 * Doc records are Yjs documents. The JSON view is the root `Y.Map` named {@link DOC_ROOT}: a JSON
 * object member that is itself an object becomes a nested `Y.Map` (so a merge patch edits nested
 * fields and concurrent edits of different nested fields both survive); every other value (string,
 * number, boolean, null, array) is stored whole as a plain Yjs value, so an array is replaced as a
 * whole, as RFC 7386 replaces arrays. Concurrent writes of the same field resolve as Yjs resolves map
 * keys: deterministically, the same winner on every replica.
 *
 * States are always full states (`Y.encodeStateAsUpdate` of a document) re-encoded from a fresh
 * document, so equal operation sets give equal bytes on every replica (equal checksums for anti-entropy).
 */
import * as Y from 'yjs';
import { DocUpdateMissingDependenciesError, InvalidDocJsonError, InvalidDocUpdateError } from './errors.ts';
import { canonicalize, canonicalJson, isJsonObject, type JsonObject, type JsonValue } from './json.ts';

/** Name of the root map that holds the JSON view. */
export const DOC_ROOT = 'root';

export interface DocWriteOptions {
  /** Yjs client id of this write (see `clientIdFor`): unique per writer, 32-bit unsigned. */
  clientId: number;
}

function load(state: Uint8Array | undefined): Y.Doc {
  // A fixed guid: the default one costs ~30 calls into the CSPRNG per document.
  const doc = new Y.Doc({ gc: true, guid: 'shoal-doc' });
  if (state && state.byteLength > 0) Y.applyUpdate(doc, state);
  return doc;
}

function encode(doc: Y.Doc): Uint8Array {
  const out = Y.encodeStateAsUpdate(doc);
  doc.destroy();
  return out;
}

/** Runs `edit` on the root map as one local transaction of `clientId`, returns the new full state. */
function edit(state: Uint8Array | undefined, clientId: number, fn: (root: Y.Map<unknown>) => void): Uint8Array {
  const doc = load(state);
  // Set after loading: Yjs would replace a client id that the loaded state already uses.
  doc.clientID = clientId >>> 0;
  doc.transact(() => fn(doc.getMap(DOC_ROOT)));
  return canonicalDocState(encode(doc));
}

/** The state of an empty document. */
export function emptyDocState(): Uint8Array {
  return encode(new Y.Doc({ guid: 'shoal-doc' }));
}

/** Re-encodes a full state from a fresh document: the canonical bytes of its operation set. */
export function canonicalDocState(state: Uint8Array): Uint8Array {
  return encode(load(state));
}

function toYValue(value: JsonValue): unknown {
  if (!isJsonObject(value)) return value;
  const map = new Y.Map<unknown>();
  for (const key of Object.keys(value).sort()) map.set(key, toYValue(value[key]));
  return map;
}

function sameJson(current: unknown, next: JsonValue): boolean {
  return (
    !(current instanceof Y.AbstractType) && current !== undefined && canonicalJson(current) === canonicalJson(next)
  );
}

/**
 * Deepest nesting of a doc: objects and arrays (Yjs maps, arrays and XML nodes), the root object being level 1.
 * Yjs integrates nested maps, and the JSON view is built, by recursion: at a few thousand levels either
 * overflows the stack, so a deeper JSON body or Yjs update is refused (400 INVALID_BODY) instead of failing
 * the write, or worse, being stored and failing every read of the record.
 */
export const MAX_DOC_DEPTH = 100;

function childrenOf(v: unknown): Iterable<unknown> | undefined {
  if (v instanceof Y.Map) return v.values();
  // Y.XmlElement extends Y.XmlFragment.
  if (v instanceof Y.Array || v instanceof Y.XmlFragment) return v.toArray();
  // Y.Text (and Y.XmlText) render as a string.
  if (v instanceof Y.AbstractType) return undefined;
  if (Array.isArray(v)) return v;
  if (typeof v === 'object' && v !== null && !(v instanceof Uint8Array)) return Object.values(v);
  return undefined;
}

/** Whether `value` nests containers deeper than `max` levels; iterative, so any depth is safe to ask about. */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    const children = childrenOf(v);
    if (children === undefined) continue;
    if (depth > max) return true;
    for (const c of children) stack.push([c, depth + 1]);
  }
  return false;
}

function requireObject(json: unknown, what: string): JsonObject {
  if (!isJsonObject(json)) throw new InvalidDocJsonError(`${what} must be a JSON object`);
  if (nestedDeeperThan(json, MAX_DOC_DEPTH))
    throw new InvalidDocJsonError(`${what} is nested deeper than ${MAX_DOC_DEPTH} levels`);
  return canonicalize(json) as JsonObject;
}

/** Makes `map` equal `json` with the fewest operations (unchanged fields are not rewritten). */
function replaceInto(map: Y.Map<unknown>, json: JsonObject): void {
  for (const key of Array.from(map.keys())) if (!Object.hasOwn(json, key)) map.delete(key);
  for (const key of Object.keys(json)) {
    const next = json[key];
    const current = map.get(key);
    if (isJsonObject(next) && current instanceof Y.Map) replaceInto(current, next);
    else if (!sameJson(current, next)) map.set(key, toYValue(next));
  }
}

/** RFC 7386 on a map: null deletes, objects recurse, anything else replaces. */
function patchInto(map: Y.Map<unknown>, patch: JsonObject): void {
  for (const key of Object.keys(patch)) {
    const p = patch[key];
    const current = map.get(key);
    if (p === null) {
      if (map.has(key)) map.delete(key);
    } else if (isJsonObject(p)) {
      if (current instanceof Y.Map) patchInto(current, p);
      else map.set(key, toYValue(stripNulls(p)));
    } else if (!sameJson(current, p)) {
      map.set(key, p);
    }
  }
}

/** A merge patch applied to `{}`: members whose value is null are absent. */
function stripNulls(patch: JsonObject): JsonObject {
  const entries: Array<[string, JsonValue]> = [];
  for (const key of Object.keys(patch)) {
    const v = patch[key];
    if (v !== null) entries.push([key, isJsonObject(v) ? stripNulls(v) : v]);
  }
  return Object.fromEntries(entries);
}

/** A new document holding `json` (a JSON object), as a full state. */
export function docFromJson(json: unknown, options: DocWriteOptions): Uint8Array {
  const obj = requireObject(json, 'a doc record');
  return edit(undefined, options.clientId, (root) => replaceInto(root, obj));
}

/** PUT on an existing doc: the JSON view becomes `json`; fields not changed by it are not rewritten. */
export function replaceDocJson(state: Uint8Array, json: unknown, options: DocWriteOptions): Uint8Array {
  const obj = requireObject(json, 'a doc record');
  return edit(state, options.clientId, (root) => replaceInto(root, obj));
}

/** PATCH: applies an RFC 7386 JSON merge patch (an object; null deletes a field) to the state. */
export function applyJsonMergePatch(
  state: Uint8Array | undefined,
  patch: unknown,
  options: DocWriteOptions,
): Uint8Array {
  const obj = requireObject(patch, 'a JSON merge patch for a doc record');
  return edit(state, options.clientId, (root) => patchInto(root, obj));
}

/**
 * Applies a raw Yjs update (V1 encoding) from a client. Throws {@link InvalidDocUpdateError} when it
 * does not decode and {@link DocUpdateMissingDependenciesError} when it builds on unseen operations.
 */
export function applyYjsUpdate(state: Uint8Array | undefined, update: Uint8Array): Uint8Array {
  if (update.byteLength === 0) throw new InvalidDocUpdateError('empty Yjs update');
  try {
    Y.decodeUpdate(update);
  } catch (err) {
    throw new InvalidDocUpdateError('the body is not a Yjs update (V1 encoding)', { cause: err });
  }
  const doc = load(state);
  try {
    Y.applyUpdate(doc, update);
  } catch (err) {
    doc.destroy();
    throw new InvalidDocUpdateError('the Yjs update could not be applied', { cause: err });
  }
  if (doc.store.pendingStructs !== null || doc.store.pendingDs !== null) {
    doc.destroy();
    throw new DocUpdateMissingDependenciesError();
  }
  if (nestedDeeperThan(doc.getMap(DOC_ROOT), MAX_DOC_DEPTH)) {
    doc.destroy();
    throw new InvalidDocUpdateError(`the Yjs update nests the doc deeper than ${MAX_DOC_DEPTH} levels`);
  }
  return canonicalDocState(encode(doc));
}

/** Merges two full states (union of their operations), canonical bytes. */
export function mergeDocStates(a: Uint8Array, b: Uint8Array): Uint8Array {
  const doc = load(a);
  Y.applyUpdate(doc, b);
  return encode(doc);
}

/** The operations of `state` that `base` lacks: the delta to send to a replica holding `base`. */
export function docDelta(state: Uint8Array, base: Uint8Array): Uint8Array {
  return Y.diffUpdate(state, Y.encodeStateVectorFromUpdate(base));
}

function fromYValue(value: unknown): JsonValue {
  if (value instanceof Y.Map) return mapToJson(value);
  if (value instanceof Y.AbstractType) return canonicalize(value.toJSON());
  return canonicalize(value);
}

function mapToJson(map: Y.Map<unknown>): JsonObject {
  const keys = Array.from(map.keys()).sort();
  return Object.fromEntries(keys.map((k) => [k, fromYValue(map.get(k))]));
}

/** The JSON view of a state: the root map, keys sorted at every level (canonical across replicas). */
export function docToJson(state: Uint8Array): JsonObject {
  const doc = load(state);
  const json = mapToJson(doc.getMap(DOC_ROOT));
  doc.destroy();
  return json;
}
